package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/duban-dev/duban/internal/cli"
	"github.com/duban-dev/duban/notify/mailcatcher"
)

func mailCatcher(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlags(env, "mailcatcher")
	smtpAddr := fs.String("smtp", "127.0.0.1:1025", "address the SMTP server listens on")
	httpAddr := fs.String("http", "127.0.0.1:8025", "address of the web page")
	keep := fs.Int("keep", 500, "how many recent messages to keep")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	c, err := mailcatcher.Start(*smtpAddr, mailcatcher.Options{Keep: *keep})
	if err != nil {
		return err
	}
	defer c.Close()
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return fmt.Errorf("mail catcher web page: %w", err)
	}
	srv := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			env.Log.Error("mail catcher web page", "err", err)
		}
	}()
	fmt.Fprintf(env.Stdout, "本地邮件服务器已启动\n  SMTP : %s（不加密、不验证，只收不发）\n  网页 : http://%s/\n\n在另一个终端运行：\n  DUBAN_SMTP_ADDR=%s DUBAN_SMTP_TLS=none duban-dev dev\n", c.Addr(), ln.Addr(), c.Addr())
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}
