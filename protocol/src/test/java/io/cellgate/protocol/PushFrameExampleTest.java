package io.cellgate.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.PushAck;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.protocol.v1.ServerPush;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The push frames of docs/PROTOCOL.md's byte-level example are what protobuf writes. */
class PushFrameExampleTest {
    private static String delimited(MessageLite message) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        message.writeDelimitedTo(out);
        return HexFormat.ofDelimiter(" ").formatHex(out.toByteArray());
    }

    @Test
    void thePushAndItsAckAreTheDocumentedBytes() throws IOException {
        ServerFrame push = ServerFrame.newBuilder().setPush(ServerPush.newBuilder().setPushId(5).setCmd(700)
                .setBody(ByteString.copyFromUtf8("hi")).setPriority(1).setAckRequested(true)).build();
        assertThat(delimited(push)).isEqualTo("0f 2a 0d 08 05 10 bc 05 1a 02 68 69 20 01 28 01");
        ClientFrame ack = ClientFrame.newBuilder().setPushAck(PushAck.newBuilder().setPushId(5)).build();
        assertThat(delimited(ack)).isEqualTo("04 22 02 08 05");
    }
}
