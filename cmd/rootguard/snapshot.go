package main

import (
	"context"
	"fmt"
)

func cmdSnapshot(ctx context.Context, e env, args []string) (int, error) {
	return exitUsage, fmt.Errorf("not available yet")
}
