package demo

import (
	"math"
	"testing"
)

func TestBlackScholesKnownValue(t *testing.T) {
	t.Parallel()
	// S0=100, K=100, r=5%, σ=20%, T=1: the textbook value is 10.4506.
	got := BlackScholesCall(Option{S0: 100, K: 100, R: 0.05, Sigma: 0.2, T: 1})
	if math.Abs(got-10.4506) > 1e-4 {
		t.Fatalf("Black–Scholes = %.5f, want 10.4506", got)
	}
}

func TestBuildShape(t *testing.T) {
	t.Parallel()
	g, final, err := Build(Config{Tasks: 120, FanIn: 50})
	if err != nil {
		t.Fatal(err)
	}
	// 120 pricing tasks, 3 reducers (50+50+20), 1 final reducer.
	if g.Len() != 124 || final == "" {
		t.Fatalf("graph has %d tasks (final %q), want 124", g.Len(), final)
	}
}

func TestReduce(t *testing.T) {
	t.Parallel()
	r := Reduce(Partial{N: 2, Sum: 3, SumSq: 5}, Partial{N: 1, Sum: 1, SumSq: 1})
	if r != (Partial{N: 3, Sum: 4, SumSq: 6}) {
		t.Fatalf("Reduce = %+v", r)
	}
}
