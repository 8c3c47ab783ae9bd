package io.cellgate.route;

/**
 * What an AO endpoint may be: {@code host:port}, where host is a DNS name, an IPv4 address or an
 * IPv6 address in brackets, and port is 1-65535 in decimal. Checked wherever an endpoint enters the
 * routes (configuration, the admin API, the endpoints file, the fleet registry), so a bad one is
 * refused with its text before anything is stored, instead of failing later when a channel opens.
 */
public final class Endpoint {
    private Endpoint() {
    }

    /** Null when {@code address} is a valid endpoint; else why not, for a message. */
    public static String problem(String address) {
        if (address == null || address.isEmpty()) {
            return "empty";
        }
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            return "no :port";
        }
        String host = address.substring(0, colon);
        String port = address.substring(colon + 1);
        if (!validPort(port)) {
            return "port " + port + " is not 1-65535";
        }
        if (host.startsWith("[")) {
            return host.endsWith("]") && validIpv6(host.substring(1, host.length() - 1)) ? null : "host " + host + " is not an IPv6 address";
        }
        return validHost(host) ? null : "host " + host + " is not a DNS name or IPv4 address";
    }

    /** Whether {@code address} is a valid endpoint. */
    public static boolean valid(String address) {
        return problem(address) == null;
    }

    private static boolean validPort(String port) {
        if (port.isEmpty() || port.length() > 5 || !digits(port)) {
            return false;
        }
        int value = Integer.parseInt(port);
        return value >= 1 && value <= 65535;
    }

    private static boolean digits(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * A DNS name (labels of letters, digits and hyphens, 1-63 characters, not starting or ending with a
     * hyphen; 253 characters at most) or a dotted IPv4 address. A name of digits and dots only must be
     * a valid IPv4 address: {@code 10.0.0.300} is neither.
     */
    private static boolean validHost(String host) {
        if (host.length() > 253) {
            return false;
        }
        boolean numeric = true;
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c != '.' && (c < '0' || c > '9')) {
                numeric = false;
                break;
            }
        }
        if (numeric) {
            return validIpv4(host);
        }
        String[] labels = host.split("\\.", -1);
        for (int i = 0; i < labels.length; i++) {
            String label = labels[i];
            if (label.isEmpty()) {
                // One trailing dot is a fully qualified name; an empty label elsewhere is not a name.
                if (i == labels.length - 1 && i > 0) {
                    continue;
                }
                return false;
            }
            if (label.length() > 63 || label.charAt(0) == '-' || label.charAt(label.length() - 1) == '-') {
                return false;
            }
            for (int j = 0; j < label.length(); j++) {
                char c = label.charAt(j);
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean validIpv4(String host) {
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !digits(part) || Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }

    /** Eight groups of 1-4 hex digits, or fewer with one {@code ::}; the last 32 bits may be dotted IPv4. */
    private static boolean validIpv6(String host) {
        if (host.isEmpty() || host.length() > 45) {
            return false;
        }
        int doubleColon = host.indexOf("::");
        if (doubleColon < 0) {
            return words(host, true) == 8;
        }
        if (host.indexOf("::", doubleColon + 1) >= 0) {
            return false;
        }
        String left = host.substring(0, doubleColon);
        String right = host.substring(doubleColon + 2);
        int leftWords = left.isEmpty() ? 0 : words(left, false);
        int rightWords = right.isEmpty() ? 0 : words(right, true);
        // "::" stands for at least one group of zeros.
        return leftWords >= 0 && rightWords >= 0 && leftWords + rightWords <= 7;
    }

    /**
     * The 16-bit words in {@code groups} (colon-separated hex groups, none empty; the last may be dotted
     * IPv4 when {@code last}, counting two), or -1 when it is not that.
     */
    private static int words(String groups, boolean last) {
        String[] parts = groups.split(":", -1);
        int words = 0;
        for (int i = 0; i < parts.length; i++) {
            String g = parts[i];
            if (last && i == parts.length - 1 && g.indexOf('.') >= 0) {
                if (!validIpv4(g)) {
                    return -1;
                }
                words += 2;
                continue;
            }
            if (g.isEmpty() || g.length() > 4) {
                return -1;
            }
            for (int j = 0; j < g.length(); j++) {
                char c = g.charAt(j);
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                    return -1;
                }
            }
            words++;
        }
        return words;
    }
}
