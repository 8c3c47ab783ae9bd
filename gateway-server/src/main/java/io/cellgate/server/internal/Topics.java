package io.cellgate.server.internal;

import io.cellgate.limit.TokenBucket;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.agrona.collections.LongHashSet;

/**
 * Topics (rooms): users that services joined on their behalf, so one push reaches them all. A topic
 * holds users, not connections: a member receives the topic's pushes on every connection it has here
 * while connected, and stays a member across reconnects until a service takes it out. Changed and
 * read by the push API's threads under this object's monitor, never by the event loops.
 */
public final class Topics {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    /** A topic's members and its push rate. */
    private static final class Topic {
        final LongHashSet members = new LongHashSet();
        TokenBucket rate;
        double ratePerSecond;
    }

    private final Map<String, Topic> topics = new HashMap<>();

    /** Why {@code name} is not a topic name, or null when it is. */
    public static String nameProblem(String name) {
        return NAME.matcher(name).matches() ? null
                : "topic: " + (name.length() > 40 ? name.substring(0, 40) + "..." : name)
                + " (expected: 1 to 128 letters, digits or ._:-)";
    }

    /**
     * Adds {@code uids} to {@code name}, creating it; the members after. Throws {@link IllegalStateException}
     * when the topic would pass {@code maxMembers}, or a new topic {@code maxTopics} (then nothing changes).
     */
    public synchronized int join(String name, long[] uids, int maxTopics, int maxMembers) {
        Topic topic = topics.get(name);
        if (topic == null) {
            if (topics.size() >= maxTopics) {
                throw new IllegalStateException("this gateway holds " + topics.size() + " topics (push.max-topics)");
            }
            topic = new Topic();
        }
        int added = 0;
        for (long uid : uids) {
            if (!topic.members.contains(uid)) {
                added++;
            }
        }
        if (topic.members.size() + added > maxMembers) {
            throw new IllegalStateException("topic " + name + " would hold " + (topic.members.size() + added)
                    + " users (push.max-topic-members " + maxMembers + ")");
        }
        for (long uid : uids) {
            topic.members.add(uid);
        }
        topics.put(name, topic);
        return topic.members.size();
    }

    /** Takes {@code uids} out of {@code name}; the members left (a topic left empty is forgotten). */
    public synchronized int leave(String name, long[] uids) {
        Topic topic = topics.get(name);
        if (topic == null) {
            return 0;
        }
        for (long uid : uids) {
            topic.members.remove(uid);
        }
        if (topic.members.isEmpty()) {
            topics.remove(name);
        }
        return topic.members.size();
    }

    /** The members of {@code name} (empty when it does not exist). */
    public synchronized long[] members(String name) {
        Topic topic = topics.get(name);
        if (topic == null) {
            return new long[0];
        }
        long[] out = new long[topic.members.size()];
        int i = 0;
        LongHashSet.LongIterator it = topic.members.iterator();
        while (it.hasNext()) {
            out[i++] = it.nextValue();
        }
        return out;
    }

    /** Takes one push from {@code name}'s rate of {@code ratePerSecond} (0: no limit); false when over it. */
    public synchronized boolean tryPush(String name, double ratePerSecond) {
        Topic topic = topics.get(name);
        if (topic == null || ratePerSecond <= 0) {
            return true;
        }
        if (topic.rate == null || topic.ratePerSecond != ratePerSecond) {
            topic.rate = new TokenBucket(ratePerSecond, (int) Math.max(1, Math.ceil(ratePerSecond)), io.cellgate.limit.NanoClock.SYSTEM);
            topic.ratePerSecond = ratePerSecond;
        }
        return topic.rate.tryAcquire();
    }

    /** Topics held. */
    public synchronized int size() {
        return topics.size();
    }
}
