// libbench.go - the Go side of bench/libbench.c, with the standard library
// only: a batch of trivial tasks run as goroutines under a channel
// semaphore (the limit) and a sync.WaitGroup, as errgroup with SetLimit
// does.  Each figure is the median of the rounds.
//
//	go run bench/libbench.go [rounds]
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var hits int64

func trivial() { atomic.AddInt64(&hits, 1) }

func batch(n, limit int) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			trivial()
		}()
	}
	wg.Wait()
}

func median(rounds int, reps int, div float64, f func()) float64 {
	v := make([]float64, rounds)
	for r := range v {
		t0 := time.Now()
		for i := 0; i < reps; i++ {
			f()
		}
		v[r] = float64(time.Since(t0).Nanoseconds()) / float64(reps) / div
	}
	sort.Float64s(v)
	return v[rounds/2]
}

func main() {
	rounds := 7
	if len(os.Args) > 1 {
		if n, err := strconv.Atoi(os.Args[1]); err == nil && n > 0 {
			rounds = n
		}
	}
	batch(1000, 16) // warm up
	fmt.Println("| case | Go goroutines + channel semaphore + WaitGroup |")
	fmt.Println("|---|--:|")
	for _, limit := range []int{2, 16} {
		fmt.Printf("| %d trivial tasks at limit %d, µs per batch | %.2f |\n", 10, limit,
			median(rounds, 20000, 1000, func() { batch(10, limit) }))
	}
	fmt.Printf("| 100000 trivial tasks at limit 2, ns per task | %.1f |\n",
		median(rounds, 1, 100000, func() { batch(100000, 2) }))
}
