# yujing worker / sinks image: the Python package and its console command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY streams ./streams
RUN pip install --no-cache-dir . && useradd --create-home yujing
USER yujing
ENV YUJING_DATA_DIR=/home/yujing/worker
ENTRYPOINT ["yujing"]
CMD ["worker"]
