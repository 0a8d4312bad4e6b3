// go-peer: a rocketmq-client-go v2.1.2 peer for rocketrpc's interop tests (tests/integration/interop_go_test.cc).
//
// Modes (the first argument):
//
//	requester  after warm-up requests until one is answered (see warmUp), send -count requests of -body with
//	           -timeout to -t; prints "OK i <ms>" or "FAIL i <reason>" per request and
//	           "SUMMARY ok=<n> errors=<n>"; exit 0 when every request got its echo.
//	responder  consume -t and answer each request with its body (echo); prints "READY" once started and
//	           "REQUEST <msgId>" per request, then "REPLIED <n>" once its reply was sent (or "FAIL reply <reason>"); runs until SIGTERM/SIGINT. -raw-reply sends
//	           the reply exactly as rocketmq-client-go's CreateReplyMessage builds it (its body left empty).
//	           Replies of 4 KiB and more leave flagged COMPRESSED with their body not compressed (v2.1.2's
//	           buildSendRequest sends msg.Body for replies but sets the flag).
//	producer   send -count messages "<body>-<i>"; prints "SENT i <msgId>" and "SUMMARY ok=<n> errors=<n>".
//	consumer   consume -t from the first offset until -count messages arrived or -wait passed; prints
//	           "RECV <body>" per message and "SUMMARY received=<n>"; exit 0 when -count arrived.
//
// The only address it is given is the name server's (-n host:port); everything else comes from its routes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"
)

type options struct {
	namesrv  string
	topic    string
	group    string
	body     string
	count    int
	timeout  time.Duration
	wait     time.Duration
	rawReply bool
	logLevel string
	warmup   time.Duration
}

// say serialises stdout lines (consumer callbacks run on several goroutines).
var outMu sync.Mutex

func say(format string, args ...interface{}) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Printf(format+"\n", args...)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go-peer requester|responder|producer|consumer -n host:port -t topic [flags]")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	mode := os.Args[1]
	var o options
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	fs.StringVar(&o.namesrv, "n", "", "name server address host:port")
	fs.StringVar(&o.topic, "t", "", "topic")
	fs.StringVar(&o.group, "group", "", "producer or consumer group (default: go_peer_<mode>_<pid>)")
	fs.StringVar(&o.body, "body", "hello from go", "request or message body")
	fs.IntVar(&o.count, "count", 1, "requests or messages to send, or messages to wait for")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Second, "per-request timeout (requester)")
	fs.DurationVar(&o.wait, "wait", 60*time.Second, "how long the consumer waits for -count messages")
	fs.BoolVar(&o.rawReply, "raw-reply", false, "responder: send CreateReplyMessage's reply unchanged")
	fs.DurationVar(&o.warmup, "warmup", 60*time.Second, "requester: until a warm-up request is answered (0: none)")
	fs.StringVar(&o.logLevel, "log", "error", "rocketmq-client-go log level (debug, info, warn, error), on stderr")
	_ = fs.Parse(os.Args[2:])
	if o.namesrv == "" || o.topic == "" || o.count < 0 {
		usage()
	}
	if o.group == "" {
		o.group = fmt.Sprintf("go_peer_%s_%d", mode, os.Getpid())
	}
	rlog.SetLogLevel(o.logLevel)

	var code int
	switch mode {
	case "requester":
		code = runRequester(o)
	case "responder":
		code = runResponder(o)
	case "producer":
		code = runProducer(o)
	case "consumer":
		code = runConsumer(o)
	default:
		usage()
	}
	os.Exit(code)
}

func newProducer(o options) (rocketmq.Producer, error) {
	p, err := rocketmq.NewProducer(
		producer.WithNameServer([]string{o.namesrv}),
		producer.WithGroupName(o.group),
		producer.WithRetry(2),
	)
	if err != nil {
		return nil, err
	}
	return p, p.Start()
}

func runRequester(o options) int {
	p, err := newProducer(o)
	if err != nil {
		say("FAIL start %v", err)
		return 1
	}
	defer p.Shutdown()
	if o.warmup > 0 && !warmUp(p, o) {
		say("FAIL warm-up: no request answered within %v", o.warmup)
		return 1
	}
	ok, failed := 0, 0
	for i := 1; i <= o.count; i++ {
		body := fmt.Sprintf("%s-%d", o.body, i)
		start := time.Now()
		reply, err := p.Request(context.Background(), o.timeout, primitive.NewMessage(o.topic, []byte(body)))
		ms := time.Since(start).Milliseconds()
		switch {
		case err != nil:
			failed++
			say("FAIL %d %v", i, err)
		case string(reply.Body) != body:
			failed++
			say("FAIL %d body mismatch: %q", i, string(reply.Body))
		default:
			ok++
			say("OK %d %d", i, ms)
		}
	}
	say("SUMMARY ok=%d errors=%d", ok, failed)
	if failed != 0 {
		return 1
	}
	return 0
}

// warmUp sends requests until one is answered. rocketmq-client-go v2.1.2 heartbeats only when a request's topic
// is unknown to the name server, else first about a second after Start: until then the broker does not know the
// requester and refuses to push replies to it ("channel of <clientId> not found"), so those requests time out
// whatever the responder does.
func warmUp(p rocketmq.Producer, o options) bool {
	deadline := time.Now().Add(o.warmup)
	for attempt := 1; time.Now().Before(deadline); attempt++ {
		if _, err := p.Request(context.Background(), 2*time.Second, primitive.NewMessage(o.topic, []byte("warmup"))); err == nil {
			say("WARMUP answered after %d attempts", attempt)
			return true
		}
		time.Sleep(200 * time.Millisecond) // a send error returns at once
	}
	return false
}

func runResponder(o options) int {
	p, err := newProducer(options{namesrv: o.namesrv, group: o.group + "_reply"})
	if err != nil {
		say("FAIL start %v", err)
		return 1
	}
	defer p.Shutdown()
	c, err := rocketmq.NewPushConsumer(
		consumer.WithNameServer([]string{o.namesrv}),
		consumer.WithGroupName(o.group),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	)
	if err != nil {
		say("FAIL start %v", err)
		return 1
	}
	var replied int64
	err = c.Subscribe(o.topic, consumer.MessageSelector{}, func(ctx context.Context,
		msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range msgs {
			if consumer.GetReplyToClient(m) == "" {
				continue // a plain message, not a request
			}
			say("REQUEST %s", m.MsgId)
			reply, err := consumer.CreateReplyMessage(m, m.Body)
			if err != nil {
				say("FAIL reply %v", err)
				continue
			}
			if !o.rawReply {
				// CreateReplyMessage parses the body as properties and leaves the reply body empty.
				reply.Body = m.Body
			}
			if _, err := p.SendSync(context.Background(), reply); err != nil {
				say("FAIL reply %v", err)
				continue
			}
			say("REPLIED %d", atomic.AddInt64(&replied, 1))
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		say("FAIL subscribe %v", err)
		return 1
	}
	if err := c.Start(); err != nil {
		say("FAIL start %v", err)
		return 1
	}
	defer c.Shutdown()
	say("READY")
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	return 0
}

func runProducer(o options) int {
	p, err := newProducer(o)
	if err != nil {
		say("FAIL start %v", err)
		return 1
	}
	defer p.Shutdown()
	ok, failed := 0, 0
	for i := 1; i <= o.count; i++ {
		res, err := p.SendSync(context.Background(), primitive.NewMessage(o.topic, []byte(fmt.Sprintf("%s-%d", o.body, i))))
		if err != nil || res.Status != primitive.SendOK {
			failed++
			say("FAIL %d %v %v", i, err, res)
			continue
		}
		ok++
		say("SENT %d %s", i, res.MsgID)
	}
	say("SUMMARY ok=%d errors=%d", ok, failed)
	if failed != 0 {
		return 1
	}
	return 0
}

func runConsumer(o options) int {
	c, err := rocketmq.NewPushConsumer(
		consumer.WithNameServer([]string{o.namesrv}),
		consumer.WithGroupName(o.group),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	)
	if err != nil {
		say("FAIL start %v", err)
		return 1
	}
	var received int64
	done := make(chan struct{})
	var once sync.Once
	err = c.Subscribe(o.topic, consumer.MessageSelector{}, func(ctx context.Context,
		msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range msgs {
			say("RECV %s", string(m.Body))
			if atomic.AddInt64(&received, 1) >= int64(o.count) {
				once.Do(func() { close(done) })
			}
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		say("FAIL subscribe %v", err)
		return 1
	}
	if err := c.Start(); err != nil {
		say("FAIL start %v", err)
		return 1
	}
	defer c.Shutdown()
	say("READY")
	select {
	case <-done:
	case <-time.After(o.wait):
	}
	n := atomic.LoadInt64(&received)
	say("SUMMARY received=%d", n)
	if n < int64(o.count) {
		return 1
	}
	return 0
}
