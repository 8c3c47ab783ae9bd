package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.GoAway;
import io.cellgate.protocol.v1.Response;
import io.cellgate.protocol.v1.ServerFrame;
import java.util.List;

/** Builders of the server frames the gateway sends. */
final class Frames {
    private Frames() {
    }

    static ServerFrame response(long seq, Code code, String message) {
        return ServerFrame.newBuilder()
                .setResponse(Response.newBuilder().setSeq(seq).setCode(code).setMessage(message))
                .build();
    }

    static ServerFrame ok(long seq, ByteString body) {
        return ServerFrame.newBuilder()
                .setResponse(Response.newBuilder().setSeq(seq).setCode(Code.OK).setBody(body))
                .build();
    }

    static ServerFrame pong(long nonce) {
        return ServerFrame.newBuilder().setPong(io.cellgate.protocol.v1.Pong.newBuilder().setNonce(nonce)).build();
    }

    static ServerFrame goAway(Code code, String reason, int reconnectAfterMillis, List<String> alternates) {
        return ServerFrame.newBuilder()
                .setGoAway(GoAway.newBuilder().setCode(code).setReason(reason)
                        .setReconnectAfterMs(reconnectAfterMillis).addAllAlternates(alternates))
                .build();
    }
}
