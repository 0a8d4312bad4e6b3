package io.rocketrpc.peer;

import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.client.ClientConfig;
import org.apache.rocketmq.remoting.RPCHook;

/**
 * The security options every command takes: ACL credentials (--access-key, --secret-key or
 * JAVA_PEER_SECRET_KEY), applied as the Java client's AclClientRPCHook, and TLS (--tls,
 * --tls-ca). Read once by Main before any client class is loaded: the 4.9 client takes its TLS
 * settings from system properties read when its TLS classes initialise.
 */
final class Security {
    private static RPCHook hook;
    private static boolean tls;

    private Security() {
    }

    static void configure(Args a) {
        String ak = a.get("--access-key", null);
        String sk = a.get("--secret-key", null);
        if (sk == null) {
            sk = System.getenv("JAVA_PEER_SECRET_KEY");
        }
        if (ak != null) {
            if (sk == null || sk.isEmpty()) {
                throw new Main.UsageException("--access-key needs --secret-key (or JAVA_PEER_SECRET_KEY)");
            }
            hook = new AclClientRPCHook(new SessionCredentials(ak, sk));
        } else if (a.get("--secret-key", null) != null) {
            throw new Main.UsageException("--secret-key needs --access-key");
        }
        tls = a.flag("--tls");
        String ca = a.get("--tls-ca", null);
        if (ca != null) {
            tls = true;
            // Without these the client runs in Apache's "test mode" and trusts any certificate.
            System.setProperty("tls.test.mode.enable", "false");
            System.setProperty("tls.client.authServer", "true");
            System.setProperty("tls.client.trustCertPath", ca);
        }
    }

    /** The ACL hook, or null (unsigned requests). */
    static RPCHook rpcHook() {
        return hook;
    }

    static void apply(ClientConfig c) {
        c.setUseTLS(tls);
    }
}
