# Digit Lens in one process (the single-server case; for more, see scripts/serve-many.sh).
#
#   docker build -t digit-lens .
#   docker run --rm -p 8501:8501 -v digit-lens-data:/data digit-lens
#
# Built and run on 2026-12-01 with podman (no Docker engine on the build machine), on a
# stand-in for the base image made with debootstrap: scripts/check-dockerfile.sh.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first, pinned by constraints.txt: this layer is rebuilt only when
# pyproject.toml or constraints.txt changes. (requirements.txt is "-e .", which needs the
# whole project: the project itself is installed after COPY.)
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > /tmp/deps.txt \
    && pip install -c constraints.txt -r /tmp/deps.txt \
    && rm /tmp/deps.txt

COPY . .
RUN pip install --no-deps -e .

# Saved digits (SQLite) and saved models live in a volume, owned by an unprivileged user.
RUN useradd --create-home --uid 10001 digitlens \
    && mkdir -p /data \
    && chown digitlens /data
USER digitlens
ENV DIGIT_LENS_HOME=/data
VOLUME ["/data"]

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2)"]

# serve.py loads the modules before the first visitor; .streamlit/config.toml, copied
# above and read from the working directory, has the rest (headless, no file
# watcher, XSRF protection, 10 MB uploads, no full GC after every run). No welcome
# message: headless Streamlit asks checkip.amazonaws.com for it, a call home.
CMD ["streamlit", "run", "serve.py", "--server.port", "8501", "--server.address", "0.0.0.0", \
     "--logger.hideWelcomeMessage", "true"]
