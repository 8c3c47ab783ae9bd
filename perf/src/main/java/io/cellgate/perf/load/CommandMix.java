package io.cellgate.perf.load;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.cellgate.sample.v1.EchoReply;
import io.cellgate.sample.v1.EchoRequest;
import io.cellgate.sample.v1.GetReply;
import io.cellgate.sample.v1.GetRequest;
import io.cellgate.sample.v1.PutReply;
import io.cellgate.sample.v1.PutRequest;
import java.util.List;

/**
 * One kind of request the load generator sends, with its share of the traffic. The kinds are the
 * sample AO's methods, so a reply can be decoded to learn which set served it.
 *
 * @param cmd    the command word configured for this method in the gateway
 * @param kind   which sample AO method the command maps to
 * @param write  true when the command is routed as WRITE (for the summary)
 * @param weight relative share of the requests
 */
public record CommandMix(int cmd, Kind kind, boolean write, double weight) {

    /** The sample AO methods. */
    public enum Kind { ECHO, GET, PUT, NOTIFY }

    /** The demo's mix against {@code conf/gateway.yaml}'s commands: 20% echo, 40% get, 40% put. */
    /**
     * The demo's own mix: the {@link #demo} one with 2% of requests asking the sample AO to push a line
     * back to the caller (cmd 5, Notify), so the run shows pushes arriving.
     */
    public static List<CommandMix> demoWithPushes() {
        return List.of(new CommandMix(1, Kind.ECHO, false, 0.18), new CommandMix(2, Kind.GET, false, 0.4),
                new CommandMix(3, Kind.PUT, true, 0.4), new CommandMix(5, Kind.NOTIFY, false, 0.02));
    }

    public static List<CommandMix> demo() {
        return List.of(new CommandMix(1, Kind.ECHO, false, 0.2), new CommandMix(2, Kind.GET, false, 0.4),
                new CommandMix(3, Kind.PUT, true, 0.4));
    }

    ByteString body(long uid, long seq, ByteString payload) {
        return switch (kind) {
            case ECHO -> EchoRequest.newBuilder().setPayload(payload).build().toByteString();
            case GET -> GetRequest.newBuilder().setKey("user-" + uid).build().toByteString();
            case PUT -> PutRequest.newBuilder().setKey("user-" + uid).setValue(payload).build().toByteString();
            case NOTIFY -> io.cellgate.sample.v1.NotifyRequest.newBuilder().setText(ByteString.copyFromUtf8("seq " + seq)).build()
                    .toByteString();
        };
    }

    /** The set named in a reply, or "?" when the body is not this kind's reply. */
    String setOf(ByteString reply) {
        try {
            return switch (kind) {
                case ECHO -> EchoReply.parseFrom(reply).getSet();
                case GET -> GetReply.parseFrom(reply).getSet();
                case PUT -> PutReply.parseFrom(reply).getSet();
                case NOTIFY -> io.cellgate.sample.v1.NotifyReply.parseFrom(reply).getSet();
            };
        } catch (InvalidProtocolBufferException e) {
            return "?";
        }
    }
}
