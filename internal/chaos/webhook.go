package chaos

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// webhookName is the endpoint every drill user chooses, so each
// transition's notices also go out as deliveries (an outbox row each).
const webhookName = "演练"

// receiver is the drill's webhook endpoint: it counts each delivery by
// its dedup key (the X-Duban-Delivery header).
type receiver struct {
	srv *http.Server
	url string

	mu   sync.Mutex
	keys map[string]int
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{keys: map[string]int{}, url: "http://" + ln.Addr().String() + "/hook"}
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.keys[req.Header.Get("X-Duban-Delivery")]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// received returns how often each key arrived.
func (r *receiver) received() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.keys))
	for k, n := range r.keys {
		out[k] = n
	}
	return out
}

func (r *receiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
}
