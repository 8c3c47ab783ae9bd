package io.cellgate.server.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Every key a configuration file set, by its dotted path ({@code upstream.health.interval}), with a
 * digest of its value after environment expansion: what a reload compares to name each key it changed,
 * whatever the key, so none is skipped unnoticed. A list ({@code commands}, {@code topology.sets})
 * is one key. Values are kept as digests: some are secrets, and this object may end up in a log.
 */
public final class ConfigKeys {
    private final SortedMap<String, String> digests;

    private ConfigKeys(SortedMap<String, String> digests) {
        this.digests = Collections.unmodifiableSortedMap(digests);
    }

    /** The keys of a parsed YAML document (a mapping). */
    static ConfigKeys of(Map<?, ?> document) {
        SortedMap<String, String> out = new TreeMap<>();
        flatten("", document, out);
        return new ConfigKeys(out);
    }

    private static void flatten(String prefix, Map<?, ?> map, SortedMap<String, String> out) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = prefix.isEmpty() ? String.valueOf(e.getKey()) : prefix + "." + e.getKey();
            if (e.getValue() instanceof Map<?, ?> child && !child.isEmpty()) {
                flatten(key, child, out);
            } else {
                out.put(key, digest(String.valueOf(e.getValue())));
            }
        }
    }

    private static String digest(String value) {
        try {
            return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }

    /** The keys set in this configuration, sorted. */
    public List<String> keys() {
        return List.copyOf(digests.keySet());
    }

    /** The keys whose value differs between this configuration and {@code next}, or that only one of them sets; sorted. */
    public List<String> changedIn(ConfigKeys next) {
        TreeSet<String> all = new TreeSet<>(digests.keySet());
        all.addAll(next.digests.keySet());
        List<String> changed = new ArrayList<>();
        for (String key : all) {
            if (!java.util.Objects.equals(digests.get(key), next.digests.get(key))) {
                changed.add(key);
            }
        }
        return changed;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfigKeys k && k.digests.equals(digests);
    }

    @Override
    public int hashCode() {
        return digests.hashCode();
    }

    @Override
    public String toString() {
        return "ConfigKeys" + digests.keySet();
    }
}
