package io.cellgate.perf.load;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** One read of a gatewayd's {@code /metrics}: every sample by its name with labels. */
public final class Scrape {
    private final Map<String, Double> series;

    private Scrape(Map<String, Double> series) {
        this.series = series;
    }

    /** Reads http://127.0.0.1:{@code metricsPort}/metrics. */
    public static Scrape of(int metricsPort) throws IOException {
        String text;
        try (var in = URI.create("http://127.0.0.1:" + metricsPort + "/metrics").toURL().openStream()) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Map<String, Double> series = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            try {
                series.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
            } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
                // Not a sample line (this exposition has no timestamps).
            }
        }
        return new Scrape(series);
    }

    /** The sum of the series named {@code name} whose labels contain {@code labels} ("" for all); 0 when none. */
    public double sum(String name, String labels) {
        double total = 0;
        for (Map.Entry<String, Double> e : series.entrySet()) {
            String key = e.getKey();
            if ((key.equals(name) || key.startsWith(name + "{")) && key.contains(labels)) {
                total += e.getValue();
            }
        }
        return total;
    }
}
