package io.cellgate.testkit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class that starts processes (gatewayd, etcd, nginx, promtool, openssl, AO or load
 * processes): the slow part of the suite. {@code bin/test -DexcludedGroups=process} runs the others
 * alone; {@code bin/test -Dgroups=process} only these.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("process")
public @interface StartsProcesses {
}
