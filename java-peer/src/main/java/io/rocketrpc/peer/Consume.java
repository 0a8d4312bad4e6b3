package io.rocketrpc.peer;

import java.io.PrintStream;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

/**
 * Receives N messages with a push consumer (from the first offset for a new group), with a
 * MessageListenerConcurrently (one thread) or, with --orderly, a MessageListenerOrderly (four
 * threads, so only the per-queue lock keeps a queue in order).
 */
final class Consume {
    private final String namesrv;
    private final String topic;
    private final String group;
    private final long count;
    private final long timeoutMs;
    private final String tagExpr;
    private final boolean quiet;
    private final boolean orderly;
    private final boolean meta;
    private final PrintStream out = System.out;

    Consume(Args a) {
        namesrv = a.require("--namesrv");
        topic = a.require("--topic");
        group = a.require("--group");
        count = a.getLong("--count", 1);
        timeoutMs = a.getLong("--timeout-ms", 60000);
        tagExpr = a.get("--tag", "*");
        quiet = a.flag("--quiet");
        orderly = a.flag("--orderly");
        meta = a.flag("--meta");
        a.checkAllUsed();
    }

    int run() throws Exception {
        Set<String> seen = ConcurrentHashMap.newKeySet();
        CountDownLatch latch = new CountDownLatch((int) Math.min(Integer.MAX_VALUE, count));
        DefaultMQPushConsumer consumer = Consumers.newConsumer(namesrv, group, "consumer");
        consumer.subscribe(topic, tagExpr);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        if (orderly) {
            consumer.setConsumeThreadMin(4);
            consumer.setConsumeThreadMax(4);
            consumer.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    accept(m, ctx.getMessageQueue(), seen, latch);
                }
                return ConsumeOrderlyStatus.SUCCESS;
            });
        } else {
            consumer.setConsumeThreadMin(1);
            consumer.setConsumeThreadMax(1);
            consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    accept(m, ctx.getMessageQueue(), seen, latch);
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
        }
        consumer.start();
        long deadline = System.currentTimeMillis() + timeoutMs;
        // a topic that appears after start() is otherwise only found by the 30 s route poll
        while (Consumers.assignedQueues(consumer) == 0 && System.currentTimeMillis() < deadline
            && latch.getCount() > 0) {
            Consumers.waitAssigned(consumer, topic, Math.min(1000, Math.max(1, deadline - System.currentTimeMillis())));
        }
        boolean all = latch.await(Math.max(0, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
        consumer.shutdown();
        if (!all) {
            out.println("FAIL timeout after " + timeoutMs + " ms: received " + seen.size() + " of " + count);
        }
        out.println("received=" + seen.size());
        return all ? 0 : 1;
    }

    /** Counts (and prints) a message the first time its id is seen; redeliveries are ignored. */
    private void accept(MessageExt m, MessageQueue mq, Set<String> seen, CountDownLatch latch) {
        if (!seen.add(m.getMsgId())) {
            return;
        }
        if (!quiet) {
            print(m, mq);
        }
        latch.countDown();
    }

    private synchronized void print(MessageExt m, MessageQueue mq) {
        StringBuilder sb = new StringBuilder("MSG ").append(Peers.printable(m.getBody() == null ? new byte[0] : m.getBody()));
        Map<String, String> sorted = new TreeMap<>(m.getProperties());
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            if (e.getKey().startsWith(Peers.COPIED_PREFIX)) {
                sb.append('\n').append("PROP ").append(e.getKey()).append('=').append(Peers.printable(e.getValue()));
            }
        }
        if (meta) {
            sb.append('\n').append("META queue=").append(mq.getBrokerName()).append(':').append(m.getQueueId())
                .append(" offset=").append(m.getQueueOffset())
                .append(" tags=").append(orDash(m.getTags()))
                .append(" keys=").append(orDash(m.getKeys()));
        }
        out.println(sb);
    }

    private static String orDash(String v) {
        return v == null || v.isEmpty() ? "-" : Peers.printable(v);
    }
}
