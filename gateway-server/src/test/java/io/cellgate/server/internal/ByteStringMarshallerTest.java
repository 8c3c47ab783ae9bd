package io.cellgate.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Bodies pass through the marshaller unchanged, whichever way gRPC reads or drains them. */
class ByteStringMarshallerTest {
    private static final ByteStringMarshaller M = ByteStringMarshaller.INSTANCE;

    @Test
    void aBodyIsDrainedWholeOrAfterPartialReads() throws Exception {
        for (int size : new int[] {0, 1, 64, 8_192, 100_000}) {
            ByteString body = random(size);
            InputStream in = M.stream(body);
            assertThat(in).isInstanceOf(Drainable.class).isInstanceOf(KnownLength.class);
            assertThat(in.available()).isEqualTo(size);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThat(((Drainable) in).drainTo(out)).isEqualTo(size);
            assertThat(ByteString.copyFrom(out.toByteArray())).isEqualTo(body);
            assertThat(in.read()).isEqualTo(-1);
            assertThat(((Drainable) in).drainTo(out)).isZero();

            if (size > 2) {
                InputStream partly = M.stream(body);
                ByteArrayOutputStream rest = new ByteArrayOutputStream();
                rest.write(partly.read());
                byte[] two = new byte[2];
                assertThat(partly.read(two, 0, 0)).isZero();
                assertThat(partly.read(two, 0, 2)).isEqualTo(Math.min(2, size - 1));
                rest.write(two, 0, 2);
                assertThat(partly.available()).isEqualTo(size - 3);
                ((Drainable) partly).drainTo(rest);
                assertThat(ByteString.copyFrom(rest.toByteArray())).isEqualTo(body);
            }
        }
    }

    @Test
    void aResponseIsParsedFromStreamsOfKnownUnknownAndWrongLength() {
        for (int size : new int[] {0, 1, 64, 8_192, 100_000}) {
            ByteString body = random(size);
            byte[] bytes = body.toByteArray();
            assertThat(M.parse(new Known(bytes, 0))).isEqualTo(body);
            assertThat(M.parse(new ByteArrayInputStream(bytes))).isEqualTo(body);
            assertThat(M.parse(new Known(bytes, -1))).as("says one byte less than it has").isEqualTo(body);
            assertThat(M.parse(new Known(bytes, -5))).as("says five bytes less").isEqualTo(body);
            assertThat(M.parse(new Known(bytes, 3))).as("says three bytes more").isEqualTo(body);
        }
    }

    private static ByteString random(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return ByteString.copyFrom(b);
    }

    /** A stream of known length, as gRPC's own are; {@code error} bytes off what it says it has. */
    private static final class Known extends ByteArrayInputStream implements KnownLength {
        private final int error;

        Known(byte[] bytes, int error) {
            super(bytes);
            this.error = error;
        }

        @Override
        public synchronized int available() {
            return Math.max(0, super.available() + error);
        }
    }
}
