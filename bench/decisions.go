package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/workflows"
)

// EchoWorkflow is the decision baseline: a workflow whose update does
// nothing but answer, so a round trip through it is Temporal's own floor.
func EchoWorkflow(ctx workflow.Context) error {
	n := 0
	if err := workflow.SetUpdateHandler(ctx, "echo", func(ctx workflow.Context, v int) (int, error) {
		n++
		return v, nil
	}); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return n < 0 })
}

const benchPassword = "bench-password"

// api is the duban serve process and a client for it.
type apiProcess struct {
	proc *process
	base string
	http *http.Client
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *stack) startAPI(ctx context.Context) (*apiProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	// Every benchmark approver signs in from this one address.
	env := append(s.env(), "DUBAN_HTTP_ADDR=127.0.0.1:"+strconv.Itoa(port), "DUBAN_JWT_KEY="+hex.EncodeToString(key), "DUBAN_LOGIN_PER_IP_PER_MINUTE=1000")
	p, err := startProcess(ctx, s.binary, []string{"serve"}, env, filepath.Join(s.dir, "api.log"))
	if err != nil {
		return nil, err
	}
	a := &apiProcess{proc: p, base: fmt.Sprintf("http://127.0.0.1:%d", port), http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := a.http.Get(a.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return a, nil
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("API did not come up: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (a *apiProcess) login(username string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": username, "password": benchPassword})
	resp, err := a.http.Post(a.base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("login %s: HTTP %d", username, resp.StatusCode)
	}
	return out.AccessToken, json.NewDecoder(resp.Body).Decode(&out)
}

// decide approves one step through the API and returns the round trip.
func (a *apiProcess) decide(token, instanceID string, step int) (time.Duration, error) {
	body, _ := json.Marshal(map[string]any{"step": step, "approve": true})
	req, _ := http.NewRequest(http.MethodPost, a.base+"/api/v1/tasks/"+url.PathEscape(instanceID)+"/decision", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	req.Header.Set("Idempotency-Key", hex.EncodeToString(b))
	start := time.Now()
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var view struct {
		CurrentStep int `json:"current_step"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&view)
	took := time.Since(start)
	if resp.StatusCode != 200 {
		return took, fmt.Errorf("decide %s: HTTP %d", instanceID, resp.StatusCode)
	}
	return took, nil
}

// prepareApprovals takes county-level tasks through submission and their
// county's own approval, so that they wait on their city (step 2), and
// returns them grouped by city. Approver i of a level with n approvers
// works in the i-th city (cities with the most tasks first), so each city
// gets what its approvers will decide.
func prepareApprovals(ctx context.Context, s *stack, eng *engine.Engine, levels []int, decisions int) (map[string][]string, []string, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id, unit_code, city FROM instances
		WHERE unit_level = 'county' AND kind = 'deadline' AND status = 'assigned' AND step_count >= 2 AND plan_id <> $1
		ORDER BY county, id`, rowsPlan)
	if err != nil {
		return nil, nil, err
	}
	type inst struct{ id, unit, city string }
	byCity := map[string][]inst{}
	for rows.Next() {
		var x inst
		if err := rows.Scan(&x.id, &x.unit, &x.city); err != nil {
			return nil, nil, err
		}
		byCity[x.city] = append(byCity[x.city], x)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	cities := make([]string, 0, len(byCity))
	for c := range byCity {
		cities = append(cities, c)
	}
	sort.Slice(cities, func(i, j int) bool {
		if len(byCity[cities[i]]) != len(byCity[cities[j]]) {
			return len(byCity[cities[i]]) > len(byCity[cities[j]])
		}
		return cities[i] < cities[j]
	})
	if len(cities) == 0 {
		return nil, nil, fmt.Errorf("no county tasks to decide")
	}
	quota := map[string]int{}
	for _, n := range levels {
		for i := range n {
			quota[cities[i%len(cities)]] += decisions/n + boolInt(i < decisions%n)
		}
	}
	var picked []inst
	for _, c := range cities {
		if quota[c] > len(byCity[c]) {
			return nil, nil, fmt.Errorf("city %s has %d county tasks, %d needed", c, len(byCity[c]), quota[c])
		}
		picked = append(picked, byCity[c][:quota[c]]...)
	}
	proof := []duban.Evidence{{SHA256: "3f786850e387550fdab836ed7e6dc881de23001b3f786850e387550fdab836ed", Name: "证明材料.pdf", Size: 1000, ContentType: "application/pdf"}}
	out := map[string][]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(picked))
	sem := make(chan struct{}, 16)
	for _, x := range picked {
		wg.Add(1)
		sem <- struct{}{}
		go func(x inst) {
			defer wg.Done()
			defer func() { <-sem }()
			off := duban.Actor{Name: "压测承办人", UnitCode: x.unit, Roles: []duban.Role{duban.RoleOfficial}}
			head := duban.Actor{Name: "压测审核人", UnitCode: x.unit, Roles: []duban.Role{duban.RoleApprover}}
			if _, err := eng.Send(ctx, x.id, "bench-s-"+x.id, workflows.Submission{Actor: off, Evidence: proof}); err != nil {
				errs <- fmt.Errorf("submit %s: %w", x.id, err)
				return
			}
			if _, err := eng.Send(ctx, x.id, "bench-d-"+x.id, workflows.DecisionRequest{Actor: head, Step: 1, Approve: true}); err != nil {
				errs <- fmt.Errorf("approve %s: %w", x.id, err)
				return
			}
			mu.Lock()
			out[x.city] = append(out[x.city], x.id)
			mu.Unlock()
		}(x)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, nil, err
	}
	return out, cities, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func runDecisions(ctx context.Context, s *stack, o Options, rep *Report, logf func(string, ...any)) error {
	if s.api == nil {
		a, err := s.startAPI(ctx)
		if err != nil {
			return err
		}
		s.api = a
	}
	maxApprovers, total := 0, 0
	for _, n := range o.Approvers {
		maxApprovers = max(maxApprovers, n)
		total += o.Decisions
	}
	eng := &engine.Engine{Client: s.client, TaskQueue: s.tc.TaskQueue}
	start := time.Now()
	byCity, cities, err := prepareApprovals(ctx, s, eng, o.Approvers, o.Decisions)
	if err != nil {
		return fmt.Errorf("prepare: %w (run the launch section first)", err)
	}
	logf("decisions: %d county tasks waiting on %d cities (prepared in %s)", total, len(cities), time.Since(start).Round(time.Second))

	// Approver users, several per city when there are more approvers than
	// cities, each signed in through the API.
	hash, err := password.Hash(benchPassword)
	if err != nil {
		return err
	}
	type approver struct{ city, token string }
	approvers := make([]approver, maxApprovers)
	for i := range approvers {
		c := cities[i%len(cities)]
		name := fmt.Sprintf("bench-approver-%s-%d", c, i)
		if _, err := s.db.UpsertUser(ctx, store.User{Username: name, DisplayName: "压测审核人", UnitCode: c, Roles: []duban.Role{duban.RoleApprover}, PasswordHash: hash}); err != nil {
			return err
		}
		token, err := s.api.login(name)
		if err != nil {
			return err
		}
		approvers[i] = approver{c, token}
	}
	var queueMu sync.Mutex
	pop := func(city string) (string, bool) {
		queueMu.Lock()
		defer queueMu.Unlock()
		q := byCity[city]
		if len(q) == 0 {
			return "", false
		}
		byCity[city] = q[1:]
		return q[0], true
	}

	// Baseline: Temporal's own update round trip, same concurrency.
	echo, err := startEcho(ctx, s.client, maxApprovers)
	if err != nil {
		return err
	}
	defer echo.stop()

	for _, n := range o.Approvers {
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		var done atomic.Int64
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func(ap approver) {
				defer wg.Done()
				for done.Add(1) <= int64(o.Decisions) {
					id, ok := pop(ap.city)
					if !ok {
						return
					}
					d, err := s.api.decide(ap.token, id, 2)
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}(approvers[i])
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return err
		}
		p50, p99, worst := percentiles(lat)
		base, err := echo.measure(ctx, n, len(lat))
		if err != nil {
			return err
		}
		b50, b99, _ := percentiles(base)
		logf("decisions: %d approvers, %d decisions: p50 %s p99 %s max %s; bare update p50 %s p99 %s", n, len(lat), ms(p50), ms(p99), ms(worst), ms(b50), ms(b99))
		target, met := "", ""
		if n == 8 {
			target, met = "p99 < 150 ms", "yes"
			if p99 > 150*time.Millisecond {
				met = fmt.Sprintf("no: %s over", ms(p99-150*time.Millisecond))
			}
		}
		rep.add(Figure{Section: "Decision round trip", Name: fmt.Sprintf("approve through the HTTP API, %d concurrent approvers (%d decisions)", n, len(lat)),
			Value: fmt.Sprintf("p50 %s, p99 %s", ms(p50), ms(p99)), Baseline: fmt.Sprintf("bare Temporal update: p50 %s, p99 %s", ms(b50), ms(b99)),
			Ratio: fmt.Sprintf("p50 %.1f×", float64(p50)/float64(max(b50, time.Microsecond))), Target: target, Met: met})
	}
	return nil
}

// echo runs EchoWorkflows on an in-process worker for the update baseline.
type echoSet struct {
	c   client.Client
	w   sdkworker.Worker
	ids []string
}

func startEcho(ctx context.Context, c client.Client, n int) (*echoSet, error) {
	tq := "bench-echo"
	w := sdkworker.New(c, tq, sdkworker.Options{})
	w.RegisterWorkflow(EchoWorkflow)
	if err := w.Start(); err != nil {
		return nil, err
	}
	e := &echoSet{c: c, w: w}
	for i := range n {
		id := fmt.Sprintf("bench/echo/%d/%d", time.Now().UnixNano(), i)
		if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, EchoWorkflow); err != nil {
			w.Stop()
			return nil, err
		}
		e.ids = append(e.ids, id)
	}
	return e, nil
}

func (e *echoSet) measure(ctx context.Context, concurrency, total int) ([]time.Duration, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	errs := make(chan error, concurrency)
	per := max(total/concurrency, 1)
	for i := range concurrency {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			for j := range per {
				start := time.Now()
				h, err := e.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: "echo", Args: []any{j}, WaitForStage: client.WorkflowUpdateStageCompleted})
				if err == nil {
					var v int
					err = h.Get(ctx, &v)
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				lat = append(lat, time.Since(start))
				mu.Unlock()
			}
		}(e.ids[i])
	}
	wg.Wait()
	close(errs)
	return lat, <-errs
}

func (e *echoSet) stop() {
	for _, id := range e.ids {
		_ = e.c.TerminateWorkflow(context.Background(), id, "", "benchmark done")
	}
	e.w.Stop()
}
