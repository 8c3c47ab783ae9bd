package io.cellgate.server;

import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * gatewayd's log lines: one line per record, whatever the message or exception holds, so journald, Loki
 * and grep see one event per line. Text: {@code 2026-11-30T09:06:02.123Z INFO [cellgate-control]
 * io.cellgate.server.GatewayServer: message}, an exception appended as {@code | exception: ...} with its
 * first 20 stack frames per cause joined by {@code " <- "}; line breaks inside a message written as {@code \n}. JSON: {@code {"time":...,"level":...,"thread":...,"logger":...,
 * "message":...,"exception":...}}. Every library gatewayd runs logs through java.util.logging (gRPC
 * itself; jetcd, Lettuce and Netty through SLF4J's JDK binding), so this one formatter covers them all.
 *
 * <p>java.util.logging rather than Logback: the gateway and gRPC already log through it, the JDK's handler
 * writes synchronously from the logging thread (the event loops log only on rare paths: refusals and
 * errors are counted, not logged per request), and it adds no dependency.
 */
public final class LogFormat extends Formatter {
    /** The configured output. */
    public enum Style { TEXT, JSON }

    private final Style style;

    public LogFormat(Style style) {
        this.style = style;
    }

    /**
     * Makes the root logger write to standard error through one handler with this format at {@code level};
     * the JVM's default handler goes.
     */
    public static void install(Style style, Level level) {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        ConsoleHandler handler = new ConsoleHandler();
        handler.setFormatter(new LogFormat(style));
        handler.setLevel(Level.ALL);
        root.addHandler(handler);
        root.setLevel(level);
    }

    @Override
    public String format(LogRecord record) {
        String message = formatMessage(record);
        String thread = Thread.currentThread().getName();
        String exception = record.getThrown() == null ? null : oneLine(record.getThrown());
        StringBuilder b = new StringBuilder(160);
        if (style == Style.JSON) {
            b.append("{\"time\":\"").append(Instant.ofEpochMilli(record.getMillis())).append("\",\"level\":\"")
                    .append(record.getLevel().getName()).append("\",\"thread\":");
            json(b, thread);
            b.append(",\"logger\":");
            json(b, record.getLoggerName() == null ? "" : record.getLoggerName());
            b.append(",\"message\":");
            json(b, message);
            if (exception != null) {
                b.append(",\"exception\":");
                json(b, exception);
            }
            return b.append("}\n").toString();
        }
        b.append(Instant.ofEpochMilli(record.getMillis())).append(' ').append(record.getLevel().getName()).append(" [").append(thread)
                .append("] ").append(record.getLoggerName()).append(": ").append(flat(message));
        if (exception != null) {
            b.append(" | exception: ").append(exception);
        }
        return b.append('\n').toString();
    }

    /** The most stack frames written per throwable: the top of a stack says where; the rest is the framework's. */
    private static final int MAX_FRAMES = 20;

    /** {@code t} and its causes on one line: "Type: message <- at frame <- at frame ...; Caused by: ...". */
    static String oneLine(Throwable t) {
        StringBuilder b = new StringBuilder();
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
            if (c != t) {
                b.append("; Caused by: ");
            }
            b.append(flat(c.toString()));
            StackTraceElement[] frames = c.getStackTrace();
            for (int i = 0; i < Math.min(frames.length, MAX_FRAMES); i++) {
                b.append(" <- at ").append(frames[i]);
            }
            if (frames.length > MAX_FRAMES) {
                b.append(" <- ... ").append(frames.length - MAX_FRAMES).append(" more");
            }
        }
        return b.toString();
    }

    /** Line breaks and tabs written as \n, \r and \t: one record is one line. */
    private static String flat(String s) {
        if (s.indexOf('\n') < 0 && s.indexOf('\r') < 0 && s.indexOf('\t') < 0) {
            return s;
        }
        return s.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t");
    }

    private static void json(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
