// SPDX-License-Identifier: GPL-2.0

// gopoller: make bench's idiomatic Go baseline. One goroutine per engine
// with its own keep-alive http.Client, GET /containers/json?all=1 every
// -interval, the body decoded by encoding/json into structs as Docker
// Swarm's engine refresh does (types.Container's fields).
//
//	gopoller -count N [-base ADDR] [-port PORT] [-interval DUR]
//
// Engine i (0..N-1) is at base + i, as enginesim numbers them. It prints
// "gopoller: all N ready" once every engine has answered once, then runs
// until SIGTERM.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// The fields Swarm's cluster/engine keeps of a listing.
type container struct {
	ID         string `json:"Id"`
	Names      []string
	Image      string
	ImageID    string
	Command    string
	Created    int64
	State      string
	Status     string
	Labels     map[string]string
	Ports      []struct{ PrivatePort, PublicPort uint16; Type, IP string }
	SizeRw     int64
	HostConfig struct{ NetworkMode string }
}

func poll(url string, interval time.Duration, ready *sync.WaitGroup) {
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 1},
	}
	first := true
	for {
		var list []container
		resp, err := client.Get(url)
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "gopoller: %s: %v\n", url, err)
			os.Exit(1)
		}
		if first {
			ready.Done()
			first = false
		}
		time.Sleep(interval)
	}
}

func main() {
	count := flag.Int("count", 0, "engines")
	base := flag.String("base", "127.1.0.1", "first engine's address")
	port := flag.Int("port", 2375, "port")
	interval := flag.Duration("interval", time.Second, "between polls")
	flag.Parse()
	ip := net.ParseIP(*base).To4()
	if *count <= 0 || ip == nil {
		fmt.Fprintln(os.Stderr, "usage: gopoller -count N [-base ADDR] [-port PORT] [-interval DUR]")
		os.Exit(2)
	}
	var ready sync.WaitGroup
	ready.Add(*count)
	first := binary.BigEndian.Uint32(ip)
	for i := 0; i < *count; i++ {
		a := make(net.IP, 4)
		binary.BigEndian.PutUint32(a, first+uint32(i))
		go poll(fmt.Sprintf("http://%s:%d/containers/json?all=1", a, *port),
			*interval, &ready)
	}
	ready.Wait()
	fmt.Printf("gopoller: all %d ready\n", *count)
	select {}
}
