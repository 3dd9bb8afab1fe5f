package bench

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Series is a named line of a plot.
type Series struct {
	Name   string
	Points []Point
	// Styled series use Color and Dash (indexes into plotutil's palettes) instead of their position.
	Styled      bool
	Color, Dash int
}

// cdfSeries is the empirical CDF of sorted values (x = value, y = fraction at or below).
func cdfSeries(name string, sorted []float64) Series {
	s := Series{Name: name, Points: make([]Point, len(sorted))}
	for i, v := range sorted {
		s.Points[i] = Point{T: v, V: float64(i+1) / float64(len(sorted))}
	}
	return s
}

// linePlot is what writeLinePlot draws.
type linePlot struct {
	Title, X, Y string
	LogX, LogY  bool
	// LegendBottomRight moves the legend out of the way of rising curves (CDFs).
	LegendBottomRight bool
	Series            []Series
	// Dashed series are drawn as dashed lines (e.g. the ideal).
	Dashed map[string]bool
}

// writeLinePlot saves a line plot as a PNG.
func writeLinePlot(path string, lp linePlot) error {
	p := plot.New()
	p.Title.Text = lp.Title
	p.X.Label.Text = lp.X
	p.Y.Label.Text = lp.Y
	if lp.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if lp.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Add(plotter.NewGrid())
	p.Legend.Top = !lp.LegendBottomRight
	p.Legend.Left = !lp.LegendBottomRight
	for i, s := range lp.Series {
		if len(s.Points) == 0 {
			continue
		}
		xys := make(plotter.XYs, 0, len(s.Points))
		for _, pt := range s.Points {
			if (lp.LogX && pt.T <= 0) || (lp.LogY && pt.V <= 0) {
				continue
			}
			xys = append(xys, plotter.XY{X: pt.T, Y: pt.V})
		}
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("plot %s: %w", s.Name, err)
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		if s.Styled {
			l.Color = plotutil.Color(s.Color)
			l.Dashes = plotutil.Dashes(s.Dash)
		}
		if lp.Dashed[s.Name] {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			l.Color = color.Gray{Y: 90}
		}
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	if !lp.LogY {
		p.Y.Min = 0 // rates and sizes read best from zero
	}
	if err := p.Save(8*vg.Inch, 5*vg.Inch, path); err != nil {
		return fmt.Errorf("saving the plot %s: %w", path, err)
	}
	return nil
}

// bar is one bar of a bar chart.
type bar struct {
	Label string
	Value float64
}

// writeBarPlot saves a bar chart as a PNG.
func writeBarPlot(path, title, ylabel string, bars []bar) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	vals := make(plotter.Values, len(bars))
	names := make([]string, len(bars))
	for i, b := range bars {
		vals[i], names[i] = b.Value, b.Label
	}
	bc, err := plotter.NewBarChart(vals, vg.Points(40))
	if err != nil {
		return fmt.Errorf("plot %s: %w", title, err)
	}
	bc.Color = plotutil.Color(0)
	p.Add(plotter.NewGrid(), bc)
	p.NominalX(names...)
	if err := p.Save(8*vg.Inch, 5*vg.Inch, path); err != nil {
		return fmt.Errorf("saving the plot %s: %w", path, err)
	}
	return nil
}
