package io.cellgate.server;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.function.Consumer;

/**
 * POSIX signal handlers (TERM, INT, HUP) through the JDK's {@code sun.misc.Signal}, the only way a Java
 * daemon can take them. It is reached by reflection so that the build, which treats every compiler
 * warning as an error, has no use of an internal API to warn about; {@code jdk.unsupported} exports it.
 */
final class Signals {
    private Signals() {
    }

    /**
     * Runs {@code handler} with the signal's name (e.g. "HUP") each time the process receives it.
     *
     * @return false when the process was started with the signal ignored (e.g. SIGHUP under
     *         {@code nohup}): the JVM then keeps it ignored and installs nothing
     */
    static boolean handle(String name, Consumer<String> handler) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance(name);
            InvocationHandler call = (proxy, method, args) -> switch (method.getName()) {
                case "handle" -> {
                    handler.accept(name);
                    yield null;
                }
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                case "toString" -> "handler of SIG" + name;
                default -> throw new UnsupportedOperationException(method.toString());
            };
            Object proxy = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerClass}, call);
            Object previous = signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, signal, proxy);
            return previous != handlerClass.getField("SIG_IGN").get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot handle SIG" + name + ": " + e, e);
        }
    }
}
