package io.rocketrpc.peer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Minimal option parser: "-n V", "--name V", "--name=V", repeatable options and flags. */
final class Args {
    private static final Set<String> FLAGS = Set.of(
        "--verbose", "--quiet", "--expect-upper", "--no-create-topic", "--print-status", "--orderly", "--meta", "--tls");
    private static final Map<String, String> ALIASES = Map.of(
        "-n", "--namesrv", "-t", "--topic", "-g", "--group", "-c", "--count");

    private final Map<String, List<String>> values = new HashMap<>();
    private final Set<String> used = new HashSet<>();

    Args(String[] argv, int from) {
        for (int i = from; i < argv.length; i++) {
            String a = argv[i];
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            a = ALIASES.getOrDefault(a, a);
            if (!a.startsWith("-")) {
                throw new Main.UsageException("unexpected argument '" + a + "'");
            }
            if (FLAGS.contains(a)) {
                if (value != null) {
                    throw new Main.UsageException(a + " takes no value");
                }
                value = "true";
            } else if (value == null) {
                if (i + 1 >= argv.length) {
                    throw new Main.UsageException(a + " needs a value");
                }
                value = argv[++i];
            }
            values.computeIfAbsent(a, k -> new ArrayList<>()).add(value);
        }
    }

    String get(String name, String def) {
        used.add(name);
        List<String> v = values.get(name);
        return v == null ? def : v.get(v.size() - 1);
    }

    String require(String name) {
        String v = get(name, null);
        if (v == null || v.isEmpty()) {
            throw new Main.UsageException("missing " + name);
        }
        return v;
    }

    long getLong(String name, long def) {
        String v = get(name, null);
        if (v == null) {
            return def;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new Main.UsageException(name + " needs a number, got '" + v + "'");
        }
    }

    boolean flag(String name) {
        return get(name, null) != null;
    }

    List<String> all(String name) {
        used.add(name);
        return values.getOrDefault(name, List.of());
    }

    /** Call after reading every option: rejects options the command does not know. */
    void checkAllUsed() {
        for (String k : values.keySet()) {
            if (!used.contains(k)) {
                throw new Main.UsageException("unknown option " + k);
            }
        }
    }
}
