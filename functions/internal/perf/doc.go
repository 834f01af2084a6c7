// Package perf holds the performance benchmarks of the rootguard functions: cold start of each
// bootstrap (from exec to its first request for work from the Runtime API) against a minimal
// aws-lambda-go "hello" built in the same run, binary sizes (linux/arm64, stripped), warm
// per-event handler latency with in-process fakes, and the peak memory of a function process
// that served every sample event routed to it. Run them with `make bench-functions`.
package perf
