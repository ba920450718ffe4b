package dev.nettyoffload.benchmarks.harness;

import java.util.LinkedHashMap;
import java.util.Map;

/** The one-line {@code WORD key=value key=value} messages that the harness, its workers and udpbench exchange. */
final class KeyValues {
    private KeyValues() {
    }

    /** Parses the {@code key=value} tokens of {@code line}; other tokens are ignored. */
    static Map<String, String> parse(String line) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String token : line.trim().split("\\s+")) {
            int eq = token.indexOf('=');
            if (eq > 0) {
                map.put(token.substring(0, eq), token.substring(eq + 1));
            }
        }
        return map;
    }

    static String format(String word, Map<String, ?> values) {
        StringBuilder sb = new StringBuilder(word);
        for (Map.Entry<String, ?> e : values.entrySet()) {
            String v = String.valueOf(e.getValue());
            if (v.isEmpty() || v.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("value of " + e.getKey() + " must be one non-empty word: " + v);
            }
            sb.append(' ').append(e.getKey()).append('=').append(v);
        }
        return sb.toString();
    }

    static double number(Map<String, String> map, String key) {
        String v = map.get(key);
        if (v == null) {
            throw new IllegalStateException("missing " + key + " in " + map);
        }
        return Double.parseDouble(v);
    }
}
