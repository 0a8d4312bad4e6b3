package io.rocketrpc.peer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.Message;

/** Helpers shared by the sub-commands. */
final class Peers {
    /** Prefix of the user properties that responders copy and requesters check. */
    static final String COPIED_PREFIX = "X-";

    private static final AtomicLong SEQ = new AtomicLong();

    private Peers() {
    }

    /** A client instance name no other process (or client in this process) uses. */
    static String uniqueInstanceName(String role) {
        return "java-peer-" + role + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + "-"
            + SEQ.incrementAndGet();
    }

    static DefaultMQProducer newProducer(String namesrv, String group, String role) {
        DefaultMQProducer p = new DefaultMQProducer(group, Security.rpcHook());
        p.setNamesrvAddr(namesrv);
        Security.apply(p);
        p.setInstanceName(uniqueInstanceName(role));
        p.setSendMsgTimeout(5000);
        return p;
    }

    /** "--prop X-Name=value" options, in order; the value may contain '='. */
    static Map<String, String> parseProps(List<String> specs) {
        Map<String, String> props = new LinkedHashMap<>();
        for (String s : specs) {
            int eq = s.indexOf('=');
            if (eq <= 0 || eq == s.length() - 1) {
                throw new Main.UsageException("--prop needs NAME=VALUE (non-empty), got '" + s + "'");
            }
            props.put(s.substring(0, eq), s.substring(eq + 1));
        }
        return props;
    }

    static void putProps(Message msg, Map<String, String> props) {
        for (Map.Entry<String, String> e : props.entrySet()) {
            msg.putUserProperty(e.getKey(), e.getValue());
        }
    }

    /** Byte-wise ASCII upper-casing: a-z become A-Z, every other byte is kept (binary safe). */
    static byte[] asciiUpper(byte[] in) {
        byte[] out = in.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] >= 'a' && out[i] <= 'z') {
                out[i] = (byte) (out[i] - 32);
            }
        }
        return out;
    }

    /** size bytes of a lower-case a-z pattern that differs with seed. */
    static byte[] pattern(int size, long seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) ('a' + (int) ((i + seed) % 26));
        }
        return b;
    }

    /** Body (or any text) on one line: \\ \n \r escaped, bytes that are not UTF-8 as \xNN. */
    static String printable(byte[] body) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            StringBuilder sb = new StringBuilder();
            for (byte x : body) {
                if (x >= 0x20 && x < 0x7f && x != '\\') {
                    sb.append((char) x);
                } else {
                    sb.append(String.format("\\x%02x", x & 0xff));
                }
            }
            return sb.toString();
        }
        return printable(text);
    }

    static String printable(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r");
    }

    /**
     * One line: the exception and, when there is one, its root cause (the Java client wraps the
     * broker's answer, e.g. an ACL refusal, in "Send [3] times, still failed").
     */
    static String describe(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String s = describeOne(t);
        return root == t ? s : s + "; cause: " + describeOne(root);
    }

    private static String describeOne(Throwable t) {
        String m = t.getMessage();
        if (m != null) {
            int nl = m.indexOf('\n');
            if (nl >= 0) {
                m = m.substring(0, nl);
            }
        }
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m.trim());
    }
}
