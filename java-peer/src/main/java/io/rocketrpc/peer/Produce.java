package io.rocketrpc.peer;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;

/** Sends N plain messages synchronously. */
final class Produce {
    private final String namesrv;
    private final String topic;
    private final long count;
    private final String tag;
    private final String key;
    private final String text;
    private final int size;
    private final Map<String, String> props;
    private final String group;
    private final boolean verbose;
    private final PrintStream out = System.out;

    Produce(Args a) {
        namesrv = a.require("--namesrv");
        topic = a.require("--topic");
        count = a.getLong("--count", 1);
        tag = a.get("--tag", null);
        key = a.get("--key", null);
        text = a.get("--body", null);
        size = (int) a.getLong("--size", -1);
        props = Peers.parseProps(a.all("--prop"));
        group = a.get("--group", "java_peer_producer");
        verbose = a.flag("--verbose");
        a.checkAllUsed();
        if (text != null && size >= 0) {
            throw new Main.UsageException("give --body or --size, not both");
        }
    }

    int run() throws Exception {
        DefaultMQProducer producer = Peers.newProducer(namesrv, group, "producer");
        producer.start();
        long sent = 0;
        long errors = 0;
        for (long i = 1; i <= count; i++) {
            byte[] body = text != null ? text.getBytes(StandardCharsets.UTF_8)
                : size >= 0 ? Peers.pattern(size, i) : ("message-" + i).getBytes(StandardCharsets.UTF_8);
            Message msg = new Message(topic, body);
            if (tag != null) {
                msg.setTags(tag);
            }
            if (key != null) {
                msg.setKeys(key.replace("{i}", Long.toString(i)));
            }
            Peers.putProps(msg, props);
            try {
                SendResult r = producer.send(msg);
                if (r.getSendStatus() == SendStatus.SEND_OK) {
                    sent++;
                    if (verbose) {
                        out.println("SENT " + i + " " + r.getMsgId() + " " + r.getMessageQueue().getBrokerName() + ":"
                            + r.getMessageQueue().getQueueId());
                    }
                } else {
                    errors++;
                    out.println("FAIL " + i + " " + r.getSendStatus());
                }
            } catch (Exception e) {
                errors++;
                out.println("FAIL " + i + " " + Peers.describe(e));
            }
        }
        producer.shutdown();
        out.println("sent=" + sent + " errors=" + errors);
        return errors == 0 ? 0 : 1;
    }
}
