// Runs one or more mqadmin commands (org.apache.rocketmq.tools.command.MQAdminStartup)
// in a single JVM and exits as soon as they are done.
//
// MQAdminStartup itself returns only after Netty's graceful shutdown (a fixed 2 s quiet
// period), so scripts/apache-rocketmq.sh compiles this class once into its cache and uses
// it to save those seconds, and a JVM start per command when several are given.
//
// Usage: java -cp <cache>:<rocketmq jars> AdminLauncher CMD ARGS... [--next CMD ARGS...]...
// Uses reflection only, so the same class works for every RocketMQ version.
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

public final class AdminLauncher {
    private AdminLauncher() {
    }

    public static void main(String[] args) throws Exception {
        Class<?> startup = Class.forName("org.apache.rocketmq.tools.command.MQAdminStartup");
        Method main = startup.getMethod("main", String[].class);
        List<String> current = new ArrayList<>();
        int status = 0;
        for (int i = 0; i <= args.length; i++) {
            if (i == args.length || "--next".equals(args[i])) {
                if (!current.isEmpty()) {
                    try {
                        main.invoke(null, (Object) current.toArray(new String[0]));
                    } catch (InvocationTargetException e) {
                        e.getCause().printStackTrace();
                        status = 1;
                    }
                    System.out.flush();
                    current.clear();
                }
            } else {
                current.add(args[i]);
            }
        }
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(status);
    }
}
