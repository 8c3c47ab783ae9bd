package io.cellgate.perf;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module structure as rules over the compiled main classes of every module (docs/ARCHITECTURE.md,
 * "Modules"): the route engine and the rate limiter are plain Java; gatewayctl speaks to the gateway
 * only through the admin protocol; only the server reaches its internals; no package cycles.
 */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.cellgate");
    }

    @Test
    void theRouteEngineAndTheRateLimiterArePlainJava() {
        noClasses().that().resideInAnyPackage("io.cellgate.route..", "io.cellgate.limit..")
                .should().dependOnClassesThat().resideInAnyPackage("io.netty..", "io.grpc..", "io.cellgate.server..")
                .because("routes and limits are plain Java, testable and reusable without the server")
                .check(classes);
    }

    @Test
    void theAoFenceNeedsGrpcApiOnly() {
        noClasses().that().resideInAPackage("io.cellgate.fence..")
                .should().dependOnClassesThat().resideInAnyPackage("io.netty..", "com.google.protobuf..", "io.cellgate.server..",
                        "io.cellgate.route..", "io.cellgate.limit..", "io.cellgate.protocol..")
                .because("AOs take the fence as a small library on top of the gRPC they already have")
                .check(classes);
    }

    @Test
    void gatewayctlDoesNotLinkTheServer() {
        noClasses().that().resideInAPackage("io.cellgate.cli..")
                .should().dependOnClassesThat().resideInAPackage("io.cellgate.server..")
                .because("gatewayctl speaks to gatewayd through the admin protocol only")
                .check(classes);
    }

    @Test
    void onlyTheServerReachesItsInternals() {
        noClasses().that().resideOutsideOfPackage("io.cellgate.server..")
                .should().dependOnClassesThat().resideInAPackage("io.cellgate.server.internal..")
                .because("internal is the server's own; tools use its public packages (e.g. server.codec)")
                .check(classes);
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.cellgate.(**)").should().beFreeOfCycles().check(classes);
    }

    @Test
    void theRulesSeeEveryModule() {
        // A rule over no classes passes whatever it says: prove each module's main classes are imported.
        for (String pkg : new String[] {"io.cellgate.route", "io.cellgate.limit", "io.cellgate.server.internal", "io.cellgate.cli",
                "io.cellgate.protocol", "io.cellgate.perf", "io.cellgate.fence"}) {
            org.assertj.core.api.Assertions.assertThat(classes.stream().anyMatch(c -> c.getPackageName().startsWith(pkg)))
                    .as("classes of %s imported", pkg).isTrue();
        }
    }
}
