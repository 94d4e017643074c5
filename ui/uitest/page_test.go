package uitest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// page is one person's browser tab, in a browser context of its own (its
// own sessionStorage, so each person is signed in separately).
type page struct {
	t      *testing.T
	f      *fixture
	srv    *server
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	errors []string
}

const waitFor = 20 * time.Second

// open opens a tab on the app's sign-in page.
func (f *fixture) open(t *testing.T, srv *server) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(f.browser, chromedp.WithNewBrowserContext())
	p := &page{t: t, f: f, srv: srv, ctx: ctx, cancel: cancel}
	// Uncaught exceptions and console errors fail the test: they are bugs a
	// person would meet.
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			p.recordError("exception: " + msg)
		}
	}()
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				p.recordError("console.error: " + strings.Join(parts, " "))
			}
		}
	}()
	t.Cleanup(p.close)
	p.do(chromedp.EmulateViewport(1366, 900), chromedp.Navigate(srv.url+"/#/login"))
	p.waitJS("the sign-in form", `!!document.querySelector('form.login-form')`)
	return p
}

func (p *page) recordError(s string) {
	p.mu.Lock()
	p.errors = append(p.errors, s)
	p.mu.Unlock()
}

func (p *page) close() {
	p.mu.Lock()
	errs := append([]string(nil), p.errors...)
	p.mu.Unlock()
	for _, e := range errs {
		p.t.Errorf("page error: %s", e)
	}
	p.cancel()
}

// signIn opens a tab and signs username in through the form.
func (f *fixture) signIn(t *testing.T, srv *server, username string) *page {
	t.Helper()
	p := f.open(t, srv)
	p.login(username, pw)
	p.waitJS("the signed-in header", `!document.getElementById('topbar').hidden && !!document.querySelector('#page-title') && !document.querySelector('main[aria-busy]')`)
	return p
}

func (p *page) login(username, password string) {
	p.t.Helper()
	p.fill(`input[name=username]`, username)
	p.fill(`input[name=password]`, password)
	p.click(`form.login-form button[type=submit]`)
}

// loginAnswered waits for the sign-in form's answer (an error shown).
func (p *page) loginAnswered() {
	p.t.Helper()
	p.waitJS("the sign-in answer", `!document.querySelector('form.login-form[aria-busy]') && document.querySelector('form.login-form .form-error')`)
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v\n%s", err, p.snapshot())
	}
}

// eval runs an expression and decodes its value into out.
func (p *page) eval(js string, out any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", js, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			p.t.Fatalf("evaluate %s: %v (%s)", js, err, raw)
		}
	}
}

func (p *page) str(js string) string {
	p.t.Helper()
	var s string
	p.eval(`String(`+js+` ?? '')`, &s)
	return s
}

// waitJS waits until a JavaScript expression is truthy, and fails with what
// the page shows if it never is.
func (p *page) waitJS(desc, js string) {
	p.t.Helper()
	p.waitJSFor(desc, js, waitFor)
}

func (p *page) waitJSFor(desc, js string, d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var ok bool
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`!!(`+js+`)`))
		cancel()
		if err == nil && json.Unmarshal(raw, &ok) == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waited %s for %s (%s); err=%v\n%s", d, desc, js, err, p.snapshot())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// snapshot is what the page shows, for failure messages.
func (p *page) snapshot() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + '\n' + (document.body ? document.body.innerText : '')`))
	if err != nil {
		return "(page unreadable: " + err.Error() + ")"
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return "--- page ---\n" + s
}

// js quotes a Go string for JavaScript.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitText waits until an element matching sel contains text.
func (p *page) waitText(sel, text string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf("%q in %s", text, sel), fmt.Sprintf(`[...document.querySelectorAll(%s)].some((e) => e.innerText.includes(%s))`, js(sel), js(text)))
}

// waitNoText waits until no element matching sel contains text.
func (p *page) waitNoText(sel, text string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf("no %q in %s", text, sel), fmt.Sprintf(`![...document.querySelectorAll(%s)].some((e) => e.innerText.includes(%s))`, js(sel), js(text)))
}

func (p *page) text(sel string) string {
	p.t.Helper()
	p.waitJS(sel, fmt.Sprintf(`document.querySelector(%s)`, js(sel)))
	return p.str(fmt.Sprintf(`document.querySelector(%s).innerText`, js(sel)))
}

// settled waits for the router to finish drawing a page.
func (p *page) settled() {
	p.t.Helper()
	p.waitJS("the page to load", `!document.querySelector('main[aria-busy]') && !!document.querySelector('main h1')`)
}

// goTo follows an in-app link (a hash route) as a click on it would.
func (p *page) goTo(hash string) {
	p.t.Helper()
	p.eval(fmt.Sprintf(`(() => { location.hash = %s; return true; })()`, js(hash)), nil)
	p.waitJS("route "+hash, fmt.Sprintf(`location.hash === %s`, js(hash)))
	p.settled()
}

// reload loads the page anew, as F5 does: the session comes back from the
// tab's refresh token.
func (p *page) reload() {
	p.t.Helper()
	p.do(chromedp.Reload())
	p.waitJS("the signed-in header after reload", `!document.getElementById('topbar').hidden`)
	p.settled()
}

func (p *page) click(sel string) {
	p.t.Helper()
	p.waitJS("clickable "+sel, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e && !e.disabled; })()`, js(sel)))
	p.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// clickText clicks the first element matching sel whose text contains text.
func (p *page) clickText(sel, text string) {
	p.t.Helper()
	find := fmt.Sprintf(`[...document.querySelectorAll(%s)].find((e) => e.innerText.includes(%s) && !e.disabled)`, js(sel), js(text))
	p.waitJS(fmt.Sprintf("%s with %q", sel, text), find)
	p.eval(fmt.Sprintf(`(() => { const e = %s; e.scrollIntoView({block: 'center'}); e.click(); return true; })()`, find), nil)
}

// fill types into a field as a person would (after clearing it).
func (p *page) fill(sel, value string) {
	p.t.Helper()
	p.waitJS("field "+sel, fmt.Sprintf(`document.querySelector(%s)`, js(sel)))
	p.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = ''; e.focus(); return true; })()`, js(sel)), nil)
	p.do(chromedp.SendKeys(chromedp.CSS(sel), value))
}

// setValue sets a field (a date, a select) and fires its events.
func (p *page) setValue(sel, value string) {
	p.t.Helper()
	p.waitJS("field "+sel, fmt.Sprintf(`document.querySelector(%s)`, js(sel)))
	p.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = %s; e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, js(sel), js(value)), nil)
}

// upload puts files (name → content) into a file input.
func (p *page) upload(sel string, files map[string][]byte) {
	p.t.Helper()
	dir := p.t.TempDir()
	var paths []string
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			p.t.Fatal(err)
		}
		paths = append(paths, path)
	}
	p.uploadPaths(sel, paths...)
}

func (p *page) uploadPaths(sel string, paths ...string) {
	p.t.Helper()
	p.waitJS("file input "+sel, fmt.Sprintf(`document.querySelector(%s)`, js(sel)))
	// The input is found the way the page's own code would find it, and
	// handed to DevTools by its object id.
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	obj, err := chromedp.Run(ctx, chromedp.Evaluate[*runtime.RemoteObject](fmt.Sprintf(`document.querySelector(%s)`, js(sel))))
	if err != nil || obj == nil || obj.ObjectID == "" {
		p.t.Fatalf("file input %s: %v", sel, err)
	}
	if _, err := chromedp.Call(ctx, dom.SetFileInputFiles, dom.SetFileInputFilesParams{Files: paths, ObjectID: obj.ObjectID}); err != nil {
		p.t.Fatalf("set files on %s: %v", sel, err)
	}
	var n int
	p.eval(fmt.Sprintf(`document.querySelector(%s).files.length`, js(sel)), &n)
	if n != len(paths) {
		p.t.Fatalf("file input %s holds %d files, want %d", sel, n, len(paths))
	}
}

// bell is the unread count the header's bell shows.
func (p *page) bell() int {
	p.t.Helper()
	var n int
	p.eval(`(() => { const c = document.getElementById('bell-count'); return !c || c.hidden ? 0 : Number(c.textContent.replace('+', '')); })()`, &n)
	return n
}

// shot captures the page as it is now at desktop width (1366×900) and at
// phone width (390×844) and, when screenshots were asked for
// (DUBAN_SCREENSHOTS), writes desktop-NAME.png and phone-NAME.png.
// scrollTo, when set, is scrolled into view first.
func (p *page) shot(name, scrollTo string) {
	p.t.Helper()
	prep := `(() => { document.getElementById('toasts').replaceChildren(); document.activeElement?.blur?.(); window.scrollTo(0, 0); return true; })()`
	scroll := `true`
	if scrollTo != "" {
		scroll = fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (e) { const y = e.getBoundingClientRect().top + window.scrollY - 72; window.scrollTo(0, Math.max(0, y)); } return true; })()`, js(scrollTo))
	}
	capture := func(file string) {
		time.Sleep(250 * time.Millisecond) // layout and fonts after the resize
		p.eval(prep, nil)
		p.eval(scroll, nil)
		time.Sleep(100 * time.Millisecond)
		ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
		defer cancel()
		buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			p.t.Fatalf("screenshot %s: %v", file, err)
		}
		if p.f.shots == "" {
			if len(buf) == 0 {
				p.t.Fatalf("screenshot %s: empty capture", file)
			}
			return
		}
		if err := writePNG(filepath.Join(p.f.shots, file), buf); err != nil {
			p.t.Fatalf("screenshot %s: %v", file, err)
		}
	}
	p.do(chromedp.EmulateViewport(1366, 900))
	capture("desktop-" + name + ".png")
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	capture("phone-" + name + ".png")
	p.do(chromedp.EmulateViewport(1366, 900))
	time.Sleep(150 * time.Millisecond)
}
