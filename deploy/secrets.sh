#!/bin/sh
# The secrets docker-compose.yml reads (docs/security.md), in ./secrets or in the
# directory given (docker-compose.yml reads $YUJING_SECRETS, default ./secrets):
#
#   kafka_<user>            the Kafka password of each user: broker (the brokers' own
#                           traffic), admin, worker, tools, downstream
#   kafka_jaas.conf         the brokers' PLAIN users and their own login (KAFKA_OPTS)
#   kafka_admin.properties  an admin client's login (the brokers' health checks;
#                           kafka-*.sh --command-config)
#   web_token               the workers' YUJING_WEB_TOKEN (risk map pages)
#   metrics_token           the workers' YUJING_METRICS_TOKEN; Prometheus scrapes with it
#   grafana_admin_password  Grafana's admin password (user admin)
#   worker.env              the workers' environment (env_file): their Kafka login
#                           (user worker) and the two tokens
#   tools.env               yujing's tools on the host (YUJING_ENV_FILE=secrets/tools.env):
#                           localhost:29092 as user tools
#
# A file already there is kept (to rotate a secret, delete its file and run this
# again, then `docker compose up -d`); the files made from others (the JAAS file, the
# properties and the .env files) are always rewritten from them, so nothing disagrees.
# New values are 32 random bytes in hex. The directory is private to you (0700); the
# single-value files in it are readable (0644) because Prometheus, Grafana and Kafka
# read their secret as another user inside their containers, through a mount of the
# file itself.
set -eu

dir=${1:-${YUJING_SECRETS:-secrets}}
mkdir -p "$dir"
chmod 700 "$dir"
printf '*\n' > "$dir/.gitignore"
users="broker admin worker tools downstream"
for name in web_token metrics_token grafana_admin_password $(for u in $users; do echo "kafka_$u"; done); do
  if [ ! -s "$dir/$name" ]; then
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$dir/$name"
    echo "wrote $dir/$name"
  fi
  chmod 644 "$dir/$name"
done
pw() { cat "$dir/kafka_$1"; }

{
  echo 'KafkaServer {'
  echo '  org.apache.kafka.common.security.plain.PlainLoginModule required'
  printf '  username="broker" password="%s"\n' "$(pw broker)"
  for u in $users; do printf '  user_%s="%s"\n' "$u" "$(pw "$u")"; done
  echo '  ;'
  echo '};'
} > "$dir/kafka_jaas.conf"
{
  echo 'security.protocol=SASL_PLAINTEXT'
  echo 'sasl.mechanism=PLAIN'
  printf 'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="%s";\n' "$(pw admin)"
} > "$dir/kafka_admin.properties"
chmod 644 "$dir/kafka_jaas.conf" "$dir/kafka_admin.properties"

login() {  # the YUJING_KAFKA_* lines of user $1
  printf 'YUJING_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT\n'
  printf 'YUJING_KAFKA_SASL_MECHANISM=PLAIN\n'
  printf 'YUJING_KAFKA_SASL_USERNAME=%s\n' "$1"
  printf 'YUJING_KAFKA_SASL_PASSWORD=%s\n' "$(pw "$1")"
}
{
  login worker
  printf 'YUJING_WEB_TOKEN=%s\n' "$(cat "$dir/web_token")"
  printf 'YUJING_METRICS_TOKEN=%s\n' "$(cat "$dir/metrics_token")"
} > "$dir/worker.env"
{
  printf 'YUJING_KAFKA_BOOTSTRAP=localhost:29092\n'
  login tools
  printf 'YUJING_WEB_TOKEN=%s\n' "$(cat "$dir/web_token")"
} > "$dir/tools.env"
chmod 600 "$dir/worker.env" "$dir/tools.env"
echo "wrote $dir/kafka_jaas.conf, $dir/kafka_admin.properties, $dir/worker.env and $dir/tools.env"
