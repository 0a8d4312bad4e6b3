package io.rocketrpc.peer;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.apache.rocketmq.client.impl.factory.MQClientInstance;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.topic.TopicValidator;

/** Sends requests with DefaultMQProducer.request() and checks every reply. */
final class Requester {
    /** rocketrpc's error-reply properties (include/rocketrpc/producer.h, reply_property). */
    static final String STATUS_PROPERTY = "RRPC_STATUS";
    static final String ERROR_PROPERTY = "RRPC_ERROR";

    private final String namesrv;
    private final String topic;
    private final long count;
    private final int size;
    private final String text;
    private final long timeoutMs;
    private final Map<String, String> props;
    private final boolean expectUpper;
    private final String group;
    private final boolean verbose;
    private final boolean printStatus;
    private final PrintStream out = System.out;

    Requester(Args a) {
        namesrv = a.require("--namesrv");
        topic = a.require("--topic");
        count = a.getLong("--count", 1);
        size = (int) a.getLong("--size", -1);
        text = a.get("--body", null);
        timeoutMs = a.getLong("--timeout-ms", 3000);
        props = Peers.parseProps(a.all("--prop"));
        expectUpper = a.flag("--expect-upper");
        group = a.get("--group", "java_peer_requester");
        verbose = a.flag("--verbose");
        printStatus = a.flag("--print-status");
        a.checkAllUsed();
        if (text != null && size >= 0) {
            throw new Main.UsageException("give --body or --size, not both");
        }
        if (count < 1) {
            throw new Main.UsageException("--count must be >= 1");
        }
    }

    int run() throws Exception {
        DefaultMQProducer producer = Peers.newProducer(namesrv, group, "requester");
        producer.start();
        prime(producer);
        long ok = 0;
        long errors = 0;
        List<Long> latencies = new ArrayList<>();
        for (long i = 1; i <= count; i++) {
            byte[] body = text != null ? text.getBytes(StandardCharsets.UTF_8)
                : size >= 0 ? Peers.pattern(size, i) : ("request-" + i).getBytes(StandardCharsets.UTF_8);
            Message msg = new Message(topic, body);
            Peers.putProps(msg, props);
            long t0 = System.nanoTime();
            String failure;
            try {
                Message reply = producer.request(msg, timeoutMs);
                if (printStatus && reply != null) {
                    printStatus(i, reply);
                }
                failure = check(body, reply);
            } catch (Exception e) {
                failure = Peers.describe(e);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (failure == null) {
                ok++;
                latencies.add(ms);
                out.println("OK " + i + " " + ms + "ms");
            } else {
                errors++;
                out.println("FAIL " + i + " " + failure);
            }
        }
        producer.shutdown();
        if (!latencies.isEmpty()) {
            Collections.sort(latencies);
            long sum = 0;
            for (long l : latencies) {
                sum += l;
            }
            out.println("latency_ms avg=" + (sum / latencies.size()) + " p50=" + latencies.get(latencies.size() / 2)
                + " max=" + latencies.get(latencies.size() - 1));
        }
        out.println("ok=" + ok + " errors=" + errors);
        return errors == 0 && ok == count ? 0 : 1;
    }

    /**
     * Replies are pushed by whichever broker stored them, to the channel our heartbeat
     * registered there; heartbeat every broker now instead of after the first 1 s timer.
     */
    private void prime(DefaultMQProducer producer) {
        MQClientInstance f = producer.getDefaultMQProducerImpl().getmQClientFactory();
        try {
            f.updateTopicRouteInfoFromNameServer(TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC);
            f.updateTopicRouteInfoFromNameServer(topic);
            f.sendHeartbeatToAllBrokerWithLock();
        } catch (RuntimeException e) {
            if (verbose) {
                System.err.println("java-peer requester: priming failed: " + Peers.describe(e));
            }
        }
    }

    /**
     * The error marker a rocketrpc responder puts on error replies (docs/design/rpc.md): one line
     * "STATUS i RRPC_STATUS=<v> RRPC_ERROR=<v>", "-" for an absent property.
     */
    private void printStatus(long i, Message reply) {
        out.println("STATUS " + i + " " + STATUS_PROPERTY + "=" + orDash(reply.getProperty(STATUS_PROPERTY)) + " "
            + ERROR_PROPERTY + "=" + orDash(reply.getProperty(ERROR_PROPERTY)));
    }

    private static String orDash(String v) {
        return v == null || v.isEmpty() ? "-" : Peers.printable(v);
    }

    private String check(byte[] sent, Message reply) {
        if (reply == null) {
            return "no reply";
        }
        byte[] expected = expectUpper ? Peers.asciiUpper(sent) : sent;
        byte[] got = reply.getBody() == null ? new byte[0] : reply.getBody();
        if (!Arrays.equals(expected, got)) {
            int at = Arrays.mismatch(expected, got);
            return "body mismatch: got " + got.length + " bytes, expected " + expected.length + ", first difference at "
                + at;
        }
        for (Map.Entry<String, String> e : props.entrySet()) {
            if (!e.getKey().startsWith(Peers.COPIED_PREFIX)) {
                continue;
            }
            String v = reply.getProperty(e.getKey());
            if (!e.getValue().equals(v)) {
                return "property " + e.getKey() + ": got " + (v == null ? "nothing" : "'" + Peers.printable(v) + "'")
                    + ", expected '" + Peers.printable(e.getValue()) + "'";
            }
        }
        return null;
    }
}
