# Build stage: compiles cellgate and gathers gatewayd's runtime jars.
FROM maven:3.9.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -ntp -Dstyle.color=never -DskipTests -pl gateway-server,admin-cli -am package \
    && mkdir -p /dist/lib /dist/bin /dist/conf /dist/docs \
    && cp gateway-server/target/gateway-server-*.jar gateway-server/target/lib/*.jar /dist/lib/ \
    && cp admin-cli/target/admin-cli-*.jar admin-cli/target/lib/*.jar /dist/lib/ \
    && cp bin/gatewayd bin/gatewayctl bin/common.sh /dist/bin/ \
    && cp conf/gateway.yaml conf/alerts.yaml conf/alerts-test.yaml conf/grafana-dashboard.json conf/cellgate.service /dist/conf/ \
    && cp docs/*.md /dist/docs/

# Run stage: a JRE and the distribution; the token secrets come from the environment or mounted files.
FROM eclipse-temurin:17-jre
RUN useradd --system --home-dir /opt/cellgate --shell /usr/sbin/nologin cellgate
COPY --from=build /dist /opt/cellgate
# The shipped configuration keeps routes in data/ and the access log in logs/: the unprivileged user
# owns those two, nothing else.
RUN mkdir -p /opt/cellgate/data /opt/cellgate/logs \
    && chown cellgate:cellgate /opt/cellgate/data /opt/cellgate/logs
WORKDIR /opt/cellgate
USER cellgate
# Metrics and probes must be reachable from outside the container; the admin API stays on the
# container's loopback unless CELLGATE_ADMIN_LISTEN says otherwise (then with admin.tls, see OPERATIONS.md).
ENV CELLGATE_METRICS_LISTEN=0.0.0.0:9410
EXPOSE 9000 9410
# Ready means taking new clients (/readyz); bash's /dev/tcp needs no HTTP client in the image. Six
# retries ten seconds apart leave a cold JVM a minute to start.
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9410 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# SIGTERM drains (drain.timeout, 30 s): give the container longer than that to stop, e.g.
# docker stop -t 45, compose stop_grace_period: 45s, Kubernetes terminationGracePeriodSeconds: 45.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/cellgate/bin/gatewayd"]
CMD ["--config", "/opt/cellgate/conf/gateway.yaml"]
