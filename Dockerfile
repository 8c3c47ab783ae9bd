# Build stage: compiles cellgate and gathers gatewayd's runtime jars.
FROM maven:3.9.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -ntp -Dstyle.color=never -DskipTests -pl gateway-server,admin-cli -am package \
    && mkdir -p /dist/lib /dist/bin /dist/conf \
    && cp gateway-server/target/gateway-server-*.jar gateway-server/target/lib/*.jar /dist/lib/ \
    && cp admin-cli/target/admin-cli-*.jar admin-cli/target/lib/*.jar /dist/lib/ \
    && cp bin/gatewayd bin/gatewayctl bin/common.sh /dist/bin/ \
    && cp conf/gateway.yaml /dist/conf/

# Run stage: a JRE and the distribution; the token secret comes from the environment or a mounted file.
FROM eclipse-temurin:17-jre
RUN useradd --system --home-dir /opt/cellgate --shell /usr/sbin/nologin cellgate
COPY --from=build /dist /opt/cellgate
WORKDIR /opt/cellgate
USER cellgate
EXPOSE 9000
ENTRYPOINT ["/opt/cellgate/bin/gatewayd"]
CMD ["--config", "/opt/cellgate/conf/gateway.yaml"]
