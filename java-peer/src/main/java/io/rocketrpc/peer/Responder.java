package io.rocketrpc.peer;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.utils.MessageUtil;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.topic.TopicValidator;

/** Answers request messages of one topic, like a Java RPC server built on RocketMQ would. */
final class Responder {
    private final String namesrv;
    private final String topic;
    private final String group;
    private final boolean upper;
    private final long count;
    private final boolean verbose;
    private final int queues;
    private final boolean createTopic;
    private final long readyTimeoutMs;
    private final PrintStream out = System.out;

    private final AtomicLong replied = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final CountDownLatch done = new CountDownLatch(1);
    private DefaultMQProducer producer;

    Responder(Args a) {
        namesrv = a.require("--namesrv");
        topic = a.require("--topic");
        group = a.require("--group");
        String mode = a.get("--mode", "echo");
        if (!mode.equals("echo") && !mode.equals("upper")) {
            throw new Main.UsageException("--mode must be echo or upper");
        }
        upper = mode.equals("upper");
        count = a.getLong("--count", 0);
        verbose = a.flag("--verbose");
        queues = (int) a.getLong("--queues", 4);
        createTopic = !a.flag("--no-create-topic");
        readyTimeoutMs = a.getLong("--ready-timeout-ms", 30000);
        a.checkAllUsed();
    }

    int run() throws Exception {
        producer = Peers.newProducer(namesrv, group + "_reply", "reply");
        producer.start();
        if (createTopic) {
            ensureTopic();
        }
        DefaultMQPushConsumer consumer = Consumers.newConsumer(namesrv, group, "responder");
        consumer.subscribe(topic, "*");
        consumer.setConsumeThreadMin(8);
        consumer.setConsumeThreadMax(8);
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                handle(m);
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        installSignalHandlers();
        if (!Consumers.waitAssigned(consumer, topic, readyTimeoutMs)) {
            out.println("FAIL no queue of " + topic + " assigned within " + readyTimeoutMs + " ms");
            consumer.shutdown();
            producer.shutdown();
            return 1;
        }
        out.println("READY");
        done.await();
        consumer.shutdown();
        producer.shutdown();
        out.println("replied=" + replied.get() + " errors=" + errors.get());
        return errors.get() == 0 ? 0 : 1;
    }

    /** Creates the topic on every broker holding TBW102 unless the name server already knows it. */
    private void ensureTopic() {
        try {
            List<?> mqs = producer.fetchPublishMessageQueues(topic);
            if (!mqs.isEmpty()) {
                return;
            }
        } catch (MQClientException e) {
            // unknown topic: create it below
        }
        try {
            producer.createTopic(TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC, topic, queues);
        } catch (MQClientException e) {
            System.err.println("java-peer responder: could not create topic " + topic + ": " + Peers.describe(e)
                + " (continuing; the consumer will pick the topic up once it exists)");
        }
    }

    private void handle(MessageExt req) {
        String ttl = req.getProperty(MessageConst.PROPERTY_MESSAGE_TTL);
        if (req.getProperty(MessageConst.PROPERTY_CORRELATION_ID) == null
            || req.getProperty(MessageConst.PROPERTY_MESSAGE_REPLY_TO_CLIENT) == null) {
            if (verbose) {
                out.println("SKIP " + req.getMsgId() + " not a request");
            }
            return;
        }
        if (ttl != null) {
            try {
                if (req.getBornTimestamp() + Long.parseLong(ttl) < System.currentTimeMillis()) {
                    if (verbose) {
                        out.println("EXPIRED " + req.getMsgId());
                    }
                    return;
                }
            } catch (NumberFormatException e) {
                // no usable TTL: answer it
            }
        }
        try {
            byte[] body = req.getBody() == null ? new byte[0] : req.getBody();
            Message reply = MessageUtil.createReplyMessage(req, upper ? Peers.asciiUpper(body) : body);
            Map<String, String> props = req.getProperties();
            for (Map.Entry<String, String> e : props.entrySet()) {
                if (e.getKey().startsWith(Peers.COPIED_PREFIX)) {
                    reply.putUserProperty(e.getKey(), e.getValue());
                }
            }
            SendResult r = producer.send(reply, 5000);
            if (r.getSendStatus() != SendStatus.SEND_OK) {
                errors.incrementAndGet();
                out.println("ERROR reply to " + req.getMsgId() + ": " + r.getSendStatus());
                return;
            }
            long n = replied.incrementAndGet();
            if (verbose) {
                out.println("REPLIED " + n);
            }
            if (count > 0 && n >= count) {
                done.countDown();
            }
        } catch (Exception e) {
            errors.incrementAndGet();
            out.println("ERROR reply to " + req.getMsgId() + ": " + Peers.describe(e));
        }
    }

    @SuppressWarnings("restriction")
    private void installSignalHandlers() {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> done.countDown());
            } catch (IllegalArgumentException e) {
                // signal not available here: the default handling applies
            }
        }
    }
}
