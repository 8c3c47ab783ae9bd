package io.cellgate.perf.harness;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * What a JFR recording says a process spent its CPU on: execution samples by the method on top of
 * the stack, and by the layer that method belongs to (Netty, gRPC, protobuf, cellgate, the JDK, ...).
 * Native samples (threads in epoll_wait, write, ...) are counted apart.
 */
public final class JfrSummary {
    private JfrSummary() {
    }

    /** A markdown summary of {@code recording}: the layers, then the {@code top} hottest methods. */
    public static String summarize(Path recording, int top) throws IOException {
        Map<String, Integer> byMethod = new HashMap<>();
        Map<String, Integer> byLayer = new HashMap<>();
        int samples = 0;
        int nativeSamples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(recording)) {
            String type = e.getEventType().getName();
            if (type.equals("jdk.NativeMethodSample")) {
                nativeSamples++;
                continue;
            }
            if (!type.equals("jdk.ExecutionSample")) {
                continue;
            }
            RecordedStackTrace stack = e.getStackTrace();
            if (stack == null || stack.getFrames().isEmpty()) {
                continue;
            }
            samples++;
            RecordedFrame frame = stack.getFrames().get(0);
            String type0 = frame.getMethod().getType().getName();
            byMethod.merge(type0 + "." + frame.getMethod().getName(), 1, Integer::sum);
            byLayer.merge(layer(type0), 1, Integer::sum);
        }
        StringBuilder md = new StringBuilder();
        md.append(String.format("%,d execution samples (%,d native-method samples: threads waiting in epoll or I/O).%n%n", samples,
                nativeSamples));
        md.append("| layer (first cellgate, gRPC, Netty or JDK frame from the top) | share |\n|---|---|\n");
        for (Map.Entry<String, Integer> e : sorted(byLayer)) {
            md.append(String.format("| %s | %.1f%% |%n", e.getKey(), 100.0 * e.getValue() / Math.max(1, samples)));
        }
        md.append("\n| hottest methods (top of stack) | share |\n|---|---|\n");
        for (Map.Entry<String, Integer> e : sorted(byMethod).subList(0, Math.min(top, byMethod.size()))) {
            md.append(String.format("| `%s` | %.1f%% |%n", e.getKey(), 100.0 * e.getValue() / Math.max(1, samples)));
        }
        return md.toString();
    }

    private static List<Map.Entry<String, Integer>> sorted(Map<String, Integer> counts) {
        return counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .collect(Collectors.toList());
    }

    /** The layer a sample is charged to: the library of the class on top of the stack, by package. */
    static String layer(String top) {
        if (top.startsWith("io.netty.channel.epoll") || top.startsWith("io.netty.channel.unix")
                || top.startsWith("sun.nio.ch")) {
            return "socket I/O (epoll, read, write)";
        }
        if (top.startsWith("io.netty.handler.codec.http2") || top.startsWith("io.grpc.netty")) {
            return "HTTP/2 framing (Netty codec-http2, grpc-netty)";
        }
        if (top.startsWith("io.grpc")) {
            return "gRPC core";
        }
        if (top.startsWith("com.google.protobuf")) {
            return "protobuf";
        }
        if (top.startsWith("io.netty.buffer") || top.startsWith("io.netty.util")) {
            return "Netty buffers and utilities";
        }
        if (top.startsWith("io.netty")) {
            return "Netty pipeline and event loop";
        }
        if (top.startsWith("io.cellgate")) {
            return "cellgate";
        }
        if (top.startsWith("java.") || top.startsWith("jdk.") || top.startsWith("sun.")) {
            return "JDK (collections, locks, time, ...)";
        }
        return "other (" + top.substring(0, Math.max(0, top.lastIndexOf('.'))) + ")";
    }
}
