# The local gateway (`cf-aig serve`) in a container; compose.yaml runs it on two workers
# with Redis and PostgreSQL. See langchain_cf_gateway/local/README.md, "Deploying on many
# workers and hosts". Build: docker build -t cf-aig-gateway .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
# As `make venv`: uv itself from the lock, installed by pip against its hashes; then the
# whole lock by uv, every package checked against its hash.
RUN python -m venv /opt/venv \
 && awk '/^uv==/ {p = 1} p {print} p && !/\\$/ {exit}' requirements.lock > /tmp/uv-requirement.txt \
 && pip install --disable-pip-version-check --no-cache-dir --require-hashes --no-deps -r /tmp/uv-requirement.txt \
 && uv pip install --python /opt/venv/bin/python --no-cache --require-hashes --no-deps -r requirements.lock
COPY langchain_cf_gateway ./langchain_cf_gateway
COPY deploy/local.toml /etc/cf-aig/local.toml
RUN uv pip install --python /opt/venv/bin/python --no-cache --no-deps --no-build-isolation --offline . \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin cfaig

USER cfaig
WORKDIR /home/cfaig
EXPOSE 8787
CMD ["cf-aig", "serve", "--host", "0.0.0.0", "--port", "8787", "--config", "/etc/cf-aig/local.toml", "--max-connections", "500", "--head-timeout", "10", "--body-timeout", "60"]
