package io.rocketrpc.peer;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.client.impl.factory.MQClientInstance;

/** Push-consumer helpers: make a fresh consumer find its queues without waiting for timers. */
final class Consumers {
    private Consumers() {
    }

    static DefaultMQPushConsumer newConsumer(String namesrv, String group, String role) {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group, Security.rpcHook(),
            new AllocateMessageQueueAveragely());
        c.setNamesrvAddr(namesrv);
        Security.apply(c);
        c.setInstanceName(Peers.uniqueInstanceName(role));
        return c;
    }

    static int assignedQueues(DefaultMQPushConsumer c) {
        return c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().size();
    }

    /**
     * Waits until the rebalance gave this consumer at least one queue of its subscription. A
     * queue only appears once its start offset is known, so anything sent afterwards is seen.
     * A topic created after start() would otherwise be noticed by the 30 s route poll only:
     * refresh the route and rebalance every 500 ms meanwhile.
     */
    static boolean waitAssigned(DefaultMQPushConsumer c, String topic, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        long nextNudge = System.currentTimeMillis() + 300;
        while (assignedQueues(c) == 0) {
            if (System.currentTimeMillis() > deadline) {
                return false;
            }
            if (System.currentTimeMillis() >= nextNudge) {
                nudge(c, topic);
                nextNudge = System.currentTimeMillis() + 500;
            }
            Thread.sleep(20);
        }
        return true;
    }

    static void nudge(DefaultMQPushConsumer c, String topic) {
        MQClientInstance f = c.getDefaultMQPushConsumerImpl().getmQClientFactory();
        if (f == null) {
            return;
        }
        try {
            f.updateTopicRouteInfoFromNameServer(topic);
            f.sendHeartbeatToAllBrokerWithLock();
            f.rebalanceImmediately();
        } catch (RuntimeException e) {
            // the next attempt may work; the route poll also keeps going
        }
    }
}
