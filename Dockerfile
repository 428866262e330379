# The bot image: the chat side and the knowledge base (the worker image with the kernel toolchain
# comes with the jobs). Build: docker build -t rfl-onboard .
# Run:   docker run -it -e KERNEL_SRC=/kernel -v /path/to/linux:/kernel:ro -v rfl-cache:/cache rfl-onboard
FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends linux-source-6.1 xz-utils ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund
COPY bot ./bot
COPY config ./config
COPY jobs ./jobs
COPY knowledge ./knowledge
ENV RFL_CACHE_DIR=/cache RFL_LOG_FORMAT=json NODE_ENV=production
# The cache volume is the unprivileged user's: the index, the unpacked tree and the Matrix session go there.
RUN mkdir -p /cache && chown node:node /cache
VOLUME /cache
USER node
ENTRYPOINT ["node", "bot/main.ts"]
CMD ["chat"]
