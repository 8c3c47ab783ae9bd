package io.cellgate.server.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A typed view of one mapping of the parsed YAML, which knows its own key path so every error names
 * the full key (e.g. {@code commands[2].timeout}). Unknown keys are errors: a typo must not be
 * silently ignored.
 */
final class ConfigNode {
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

    private final String path;
    private final Map<String, Object> values;

    ConfigNode(String path, Map<String, Object> values) {
        this.path = path;
        this.values = values;
    }

    @SuppressWarnings("unchecked")
    static ConfigNode root(Object parsed) {
        if (!(parsed instanceof Map)) {
            throw ConfigException.invalid("(document)", parsed == null ? "empty" : parsed.getClass().getSimpleName(),
                    "a YAML mapping at the top level");
        }
        Map<String, Object> map = new LinkedHashMap<>();
        ((Map<Object, Object>) parsed).forEach((k, v) -> map.put(String.valueOf(k), v));
        return new ConfigNode("", map);
    }

    String key(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    /** Fails on any key not in {@code known}. */
    void allowOnly(Set<String> known) {
        for (String k : values.keySet()) {
            if (!known.contains(k)) {
                throw ConfigException.invalid(key(k), "unknown key", "one of " + known);
            }
        }
    }

    /** The keys of this mapping, in document order. */
    java.util.Set<String> keys() {
        return values.keySet();
    }

    boolean has(String name) {
        return values.get(name) != null;
    }

    ConfigNode node(String name) {
        Object v = values.get(name);
        if (v == null) {
            return new ConfigNode(key(name), Map.of());
        }
        return asNode(key(name), v);
    }

    List<ConfigNode> nodes(String name) {
        Object v = values.get(name);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw ConfigException.invalid(key(name), v, "a list");
        }
        List<ConfigNode> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            out.add(asNode(key(name) + "[" + i + "]", list.get(i)));
        }
        return out;
    }

    List<String> strings(String name) {
        Object v = values.get(name);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw ConfigException.invalid(key(name), v, "a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (Object o : list) {
            if (o == null || o instanceof Map || o instanceof List) {
                throw ConfigException.invalid(key(name), o, "a list of strings");
            }
            out.add(String.valueOf(o));
        }
        return out;
    }

    String string(String name, String fallback) {
        Object v = values.get(name);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            // YAML 1.1 reads a bare off / on / no / yes as a boolean; the keys mean the words.
            return b ? "on" : "off";
        }
        if (v instanceof Map || v instanceof List) {
            throw ConfigException.invalid(key(name), v, "a string");
        }
        return String.valueOf(v);
    }

    String requiredString(String name) {
        String s = string(name, null);
        if (s == null || s.isBlank()) {
            throw ConfigException.invalid(key(name), "missing", "a non-empty string");
        }
        return s;
    }

    long longValue(String name, long fallback, long min, long max) {
        Object v = values.get(name);
        if (v == null) {
            return fallback;
        }
        long n;
        if (v instanceof Number num && !(v instanceof Double) && !(v instanceof Float)) {
            n = num.longValue();
        } else {
            try {
                n = Long.parseLong(String.valueOf(v).trim());
            } catch (NumberFormatException e) {
                throw ConfigException.invalid(key(name), v, "an integer in " + min + ".." + max);
            }
        }
        if (n < min || n > max) {
            throw ConfigException.invalid(key(name), v, "an integer in " + min + ".." + max);
        }
        return n;
    }

    int intValue(String name, int fallback, int min, int max) {
        return (int) longValue(name, fallback, min, max);
    }

    double doubleValue(String name, double fallback, double min, double max) {
        Object v = values.get(name);
        if (v == null) {
            return fallback;
        }
        double d;
        try {
            d = v instanceof Number num ? num.doubleValue() : Double.parseDouble(String.valueOf(v).trim());
        } catch (NumberFormatException e) {
            throw ConfigException.invalid(key(name), v, "a number in " + min + ".." + max);
        }
        if (!(d >= min && d <= max)) {
            throw ConfigException.invalid(key(name), v, "a number in " + min + ".." + max);
        }
        return d;
    }

    boolean bool(String name, boolean fallback) {
        Object v = values.get(name);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw ConfigException.invalid(key(name), v, "true or false");
    }

    /** A duration written as {@code 500ms}, {@code 8s}, {@code 2m} or {@code 1h}. */
    Duration duration(String name, Duration fallback, Duration min, Duration max) {
        Object v = values.get(name);
        if (v == null) {
            return fallback;
        }
        Matcher m = DURATION.matcher(String.valueOf(v).trim());
        String expected = "a duration such as 500ms, 8s, 2m, 1h within " + min.toMillis() + "ms.." + max.toMillis() + "ms";
        if (!m.matches()) {
            throw ConfigException.invalid(key(name), v, expected);
        }
        long amount = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        };
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw ConfigException.invalid(key(name), v, expected);
        }
        return d;
    }

    <E extends Enum<E>> E enumValue(String name, Class<E> type, E fallback) {
        String s = string(name, null);
        if (s == null) {
            return fallback;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(s.trim().replace('-', '_'))) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name());
        }
        throw ConfigException.invalid(key(name), s, "one of " + names);
    }

    @SuppressWarnings("unchecked")
    private static ConfigNode asNode(String path, Object v) {
        if (!(v instanceof Map)) {
            throw ConfigException.invalid(path, v, "a mapping");
        }
        Map<String, Object> map = new LinkedHashMap<>();
        ((Map<Object, Object>) v).forEach((k, val) -> map.put(String.valueOf(k), val));
        return new ConfigNode(path, map);
    }
}
