package main

import (
	"context"
	"fmt"
)

// runGateway, runAgent, runDev and runBench are wired to the gateway, agent and bench packages as
// those land.

func runGateway(_ context.Context, _ *cliEnv, _ []string) error {
	return fmt.Errorf("the gateway is not built into this binary yet")
}

func runAgent(_ context.Context, _ *cliEnv, _ []string) error {
	return fmt.Errorf("the agent is not built into this binary yet")
}

func runDev(_ context.Context, _ *cliEnv, _ []string) error {
	return fmt.Errorf("dev mode is not built into this binary yet")
}

func runBench(_ context.Context, _ *cliEnv, _ []string) error {
	return fmt.Errorf("bench is not built into this binary yet")
}
