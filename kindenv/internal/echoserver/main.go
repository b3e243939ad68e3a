// Command echoserver is the integration test's workload: `echoserver serve
// ADDR` answers every HTTP request with "azsim-echo <hostname>", and
// `echoserver get URL` fetches URL (retrying for up to a minute) and prints
// the body. It is built static and pushed to a registry by the test.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: echoserver serve ADDR | get URL")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		host, _ := os.Hostname()
		http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "azsim-echo %s\n", host)
		})
		srv := &http.Server{Addr: os.Args[2], ReadHeaderTimeout: 10 * time.Second}
		fmt.Fprintln(os.Stderr, srv.ListenAndServe())
		os.Exit(1)
	case "get":
		c := &http.Client{Timeout: 5 * time.Second}
		deadline := time.Now().Add(time.Minute)
		for {
			resp, err := c.Get(os.Args[2])
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				fmt.Printf("%d %s", resp.StatusCode, body)
				if resp.StatusCode == http.StatusOK {
					return
				}
			} else {
				fmt.Fprintln(os.Stderr, err)
			}
			if time.Now().After(deadline) {
				os.Exit(1)
			}
			time.Sleep(2 * time.Second)
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: echoserver serve ADDR | get URL")
		os.Exit(2)
	}
}
