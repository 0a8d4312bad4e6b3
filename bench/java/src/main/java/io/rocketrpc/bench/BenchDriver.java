package io.rocketrpc.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.impl.factory.MQClientInstance;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.RequestCallback;
import org.apache.rocketmq.client.utils.MessageUtil;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.topic.TopicValidator;

/**
 * Request/reply load for bench/compare.sh with the Apache RocketMQ Java client.
 *
 * <pre>
 *   BenchDriver responder --namesrv A --topic T [--group G]   push consumer replying with createReplyMessage
 *   BenchDriver requester --namesrv A --topic T [--group G]   serves cells on stdin (same protocol as the
 *                                                             C++ drivers, bench/common/bench_common.h)
 * </pre>
 *
 * The requester keeps K requests in flight with request(msg, RequestCallback, timeout); each callback records
 * the latency and issues the next request. Compression is off on both sides (payloads are incompressible).
 */
public final class BenchDriver {
    private BenchDriver() {
    }

    public static void main(String[] argv) throws Exception {
        if (argv.length < 1) {
            usage();
        }
        Map<String, String> a = new HashMap<>();
        for (int i = 1; i + 1 < argv.length; i += 2) {
            a.put(argv[i], argv[i + 1]);
        }
        String namesrv = a.get("--namesrv");
        String topic = a.getOrDefault("--topic", "BenchEcho");
        long timeoutMs = Long.parseLong(a.getOrDefault("--timeout-ms", "10000"));
        if (namesrv == null) {
            usage();
        }
        switch (argv[0]) {
            case "responder":
                responder(namesrv, topic, a.getOrDefault("--group", "BenchJavaResponder_" + topic));
                break;
            case "requester":
                requester(namesrv, topic, a.getOrDefault("--group", "BenchJavaRequester_" + topic), timeoutMs);
                break;
            default:
                usage();
        }
        System.exit(0);
    }

    private static void usage() {
        System.err.println("usage: BenchDriver responder|requester --namesrv HOST:PORT [--topic T] [--group G]");
        System.exit(2);
    }

    // ------------------------------------------------------------------------------------------ responder

    private static void responder(String namesrv, String topic, String group) throws Exception {
        DefaultMQProducer replyProducer = new DefaultMQProducer(group + "_reply");
        replyProducer.setNamesrvAddr(namesrv);
        replyProducer.setCompressMsgBodyOverHowmuch(Integer.MAX_VALUE);
        replyProducer.start();

        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
        consumer.setNamesrvAddr(namesrv);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
        consumer.subscribe(topic, "*");
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                try {
                    // Echo, stamped with the time we handled it (bytes 8..15, see bench_common.h).
                    byte[] body = m.getBody().clone();
                    writeStamp(body, 8, System.nanoTime());
                    Message reply = MessageUtil.createReplyMessage(m, body);
                    replyProducer.send(reply, 3000);
                } catch (Exception e) {
                    System.err.println("responder: reply failed: " + e);
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        // Ready once every queue of the topic is assigned to us (the only member of the group).
        int expected = consumer.fetchSubscribeMessageQueues(topic).size();
        long deadline = System.currentTimeMillis() + 60_000;
        while (consumer.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().size() < expected
            && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        System.out.println("READY queues="
            + consumer.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().size() + "/" + expected);
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("quit")) {
                break;
            }
        }
        consumer.shutdown();
        replyProducer.shutdown();
    }

    // ------------------------------------------------------------------------------------------ requester

    private static void requester(String namesrv, String topic, String group, long timeoutMs) throws Exception {
        DefaultMQProducer producer = new DefaultMQProducer(group);
        producer.setNamesrvAddr(namesrv);
        producer.setCompressMsgBodyOverHowmuch(Integer.MAX_VALUE);
        producer.start();
        // Replies are pushed to the channel our heartbeat registered on the broker: heartbeat now rather than
        // after the first timer tick.
        MQClientInstance f = producer.getDefaultMQProducerImpl().getmQClientFactory();
        f.updateTopicRouteInfoFromNameServer(TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC);
        f.updateTopicRouteInfoFromNameServer(topic);
        f.sendHeartbeatToAllBrokerWithLock();

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.trim().split("\\s+");
            if (p[0].equals("quit")) {
                break;
            }
            if (!p[0].equals("cell") || p.length < 6) {
                continue;
            }
            int inflight = Integer.parseInt(p[1]);
            int payload = Integer.parseInt(p[2]);
            long warmupMs = Long.parseLong(p[3]);
            long durationMs = Long.parseLong(p[4]);
            long maxCount = Long.parseLong(p[5]);
            byte[] body = payload(payload);
            if (warmupMs > 0) {
                Loop w = new Loop(producer, topic, body, inflight, warmupMs, maxCount, timeoutMs);
                w.run();
                if (w.ok == 0 && w.firstError != null) {
                    System.out.println("log warm-up errors: " + w.firstError);
                }
            }
            System.out.println("ready");
            System.out.flush();
            line = in.readLine();
            if (line == null || !line.equals("go")) {
                break;
            }
            Loop loop = new Loop(producer, topic, body, inflight, durationMs, maxCount, timeoutMs);
            loop.run();
            System.out.println("result " + loop.json());
            System.out.flush();
        }
        producer.shutdown();
    }

    static void writeStamp(byte[] b, int at, long ns) {
        if (b.length < at + 8) {
            return;
        }
        for (int i = 0; i < 8; i++) {
            b[at + i] = (byte) (ns >>> (8 * i));
        }
    }

    static long readStamp(byte[] b, int at) {
        if (b == null || b.length < at + 8) {
            return 0;
        }
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v |= (b[at + i] & 0xffL) << (8 * i);
        }
        return v;
    }

    /** Incompressible, deterministic bytes. */
    private static byte[] payload(int n) {
        byte[] b = new byte[n];
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    /** One closed-loop phase: `inflight` requests outstanding until the duration or the count runs out. */
    private static final class Loop {
        private final DefaultMQProducer producer;
        private final String topic;
        private final byte[] body;
        private final int inflight;
        private final long deadlineNanos;
        private final long durationMs;
        private final long maxCount;
        private final long timeoutMs;
        private final long[] latencies;
        private final long[] legs;  // request leg (responder stamp - start), -1 when unknown
        private final AtomicInteger slot = new AtomicInteger();
        private final AtomicLong issued = new AtomicLong();
        private final AtomicLong outstanding = new AtomicLong();
        private final AtomicLong errors = new AtomicLong();
        private final AtomicLong duplicates = new AtomicLong();
        private final AtomicLong nullReplies = new AtomicLong();
        private volatile long lastNanos;
        private final long t0;
        long ok;
        volatile String firstError;

        Loop(DefaultMQProducer producer, String topic, byte[] body, int inflight, long durationMs, long maxCount,
             long timeoutMs) {
            this.producer = producer;
            this.topic = topic;
            this.body = body;
            this.inflight = inflight;
            this.durationMs = durationMs;
            this.maxCount = maxCount;
            this.timeoutMs = timeoutMs;
            this.latencies = new long[(int) Math.min(Math.max(maxCount, 1), 8_000_000)];
            this.legs = new long[latencies.length];
            this.t0 = System.nanoTime();
            this.deadlineNanos = t0 + durationMs * 1_000_000L;
            this.lastNanos = t0;
        }

        private boolean tryReserve() {
            if (System.nanoTime() >= deadlineNanos) {
                return false;
            }
            if (issued.getAndIncrement() >= maxCount) {
                return false;
            }
            outstanding.incrementAndGet();
            return true;
        }

        private void finished() {
            if (outstanding.decrementAndGet() == 0) {
                synchronized (this) {
                    notifyAll();
                }
            }
        }

        private void launch() {
            final byte[] stamped = body.clone();
            final long start = System.nanoTime();
            writeStamp(stamped, 0, start);
            // Each request must complete once: the client may report a request twice (a duplicate reply after a
            // retried reply send, or a synchronous failure whose future also times out later).
            final AtomicBoolean once = new AtomicBoolean();
            try {
                producer.request(new Message(topic, stamped), new RequestCallback() {
                    @Override
                    public void onSuccess(Message reply) {
                        // rocketmq-client 4.9.8 calls onSuccess(null) when the broker acknowledges the send
                        // (DefaultMQProducerImpl.request's SendCallback runs executeRequestCallback), and
                        // onSuccess(reply) again when the reply arrives: only the second one is the answer.
                        if (reply == null) {
                            nullReplies.incrementAndGet();
                            return;
                        }
                        if (!once.compareAndSet(false, true)) {
                            duplicates.incrementAndGet();
                            return;
                        }
                        try {
                            long now = System.nanoTime();
                            int i = slot.getAndIncrement();
                            if (i < latencies.length) {
                                latencies[i] = now - start;
                                long r = readStamp(reply.getBody(), 8);
                                legs[i] = r > start && r <= now ? r - start : -1;
                            }
                            lastNanos = now;
                            if (tryReserve()) {
                                launch();
                            }
                        } catch (Throwable t) {
                            fail(t);
                        } finally {
                            finished();
                        }
                    }

                    @Override
                    public void onException(Throwable e) {
                        if (!once.compareAndSet(false, true)) {
                            duplicates.incrementAndGet();
                            return;
                        }
                        try {
                            fail(e);
                            lastNanos = System.nanoTime();
                            if (tryReserve()) {
                                launch();
                            }
                        } finally {
                            finished();
                        }
                    }
                }, timeoutMs);
            } catch (Exception e) {  // refused before sending: this slot is dropped
                if (once.compareAndSet(false, true)) {
                    fail(e);
                    finished();
                }
            }
        }

        private void fail(Throwable e) {
            errors.incrementAndGet();
            if (firstError == null) {
                firstError = String.valueOf(e);
            }
        }

        void run() throws InterruptedException {
            for (int i = 0; i < inflight; i++) {
                if (!tryReserve()) {
                    break;
                }
                launch();
            }
            long waitUntil = System.nanoTime() + (durationMs + 15_000) * 1_000_000L;
            synchronized (this) {
                while (outstanding.get() > 0) {
                    long left = (waitUntil - System.nanoTime()) / 1_000_000L;
                    if (left <= 0) {
                        break;
                    }
                    wait(Math.min(left, 100));
                }
            }
            ok = Math.min(slot.get(), latencies.length);
        }

        String json() {
            long[] reqLeg = new long[(int) ok];
            long[] repLeg = new long[(int) ok];
            int nLegs = 0;
            for (int i = 0; i < ok; i++) {
                if (legs[i] >= 0) {
                    reqLeg[nLegs] = legs[i];
                    repLeg[nLegs] = latencies[i] - legs[i];
                    nLegs++;
                }
            }
            reqLeg = Arrays.copyOf(reqLeg, nLegs);
            repLeg = Arrays.copyOf(repLeg, nLegs);
            Arrays.sort(reqLeg);
            Arrays.sort(repLeg);
            String legJson = nLegs == 0 ? "" : String.format(java.util.Locale.ROOT,
                ",\"request_leg_p50_us\":%.2f,\"request_leg_p99_us\":%.2f,\"reply_leg_p50_us\":%.2f,"
                    + "\"reply_leg_p99_us\":%.2f",
                pct(reqLeg, 0.5), pct(reqLeg, 0.99), pct(repLeg, 0.5), pct(repLeg, 0.99));
            long[] l = Arrays.copyOf(latencies, (int) ok);
            Arrays.sort(l);
            double elapsed = (lastNanos - t0) / 1e9;
            double sum = 0;
            for (long v : l) {
                sum += v;
            }
            long lost = outstanding.get();
            String err = firstError == null ? (lost > 0 ? "requests did not complete" : "") : firstError;
            err = err.replace("\\", "\\\\").replace("\"", "\\\"").replaceAll("[\\x00-\\x1f]", " ");
            if (err.length() > 200) {
                err = err.substring(0, 200);
            }
            return String.format(java.util.Locale.ROOT,
                "{\"ok\":%d,\"errors\":%d,\"elapsed_s\":%.4f,\"throughput\":%.2f,\"p50_us\":%.2f,\"p99_us\":%.2f,"
                    + "\"p999_us\":%.2f,\"mean_us\":%.2f,\"max_us\":%.2f,\"duplicates\":%d,\"null_replies\":%d%s,\"first_error\":\"%s\"}",
                ok, errors.get() + lost, elapsed, elapsed > 0 ? ok / elapsed : 0.0, pct(l, 0.50), pct(l, 0.99),
                pct(l, 0.999), l.length == 0 ? 0.0 : sum / l.length / 1000.0,
                l.length == 0 ? 0.0 : l[l.length - 1] / 1000.0, duplicates.get(), nullReplies.get(), legJson, err);
        }

        private static double pct(long[] sorted, double q) {
            if (sorted.length == 0) {
                return 0;
            }
            int i = (int) (q * sorted.length);
            return sorted[Math.min(i, sorted.length - 1)] / 1000.0;
        }
    }
}
