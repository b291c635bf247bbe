// The page: asks the API which region and task answered, and reads every region's readiness.
// Everything it calls comes from /config.json, written next to it at deploy time.

const TIMEOUT_MS = 5000;
const REFRESH_MS = 15000;

const $ = (id) => document.getElementById(id);

/** Fetches `url` without caching; resolves with the response, its text and the time it took. */
async function timedFetch(url) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  const started = performance.now();
  try {
    const response = await fetch(url, { cache: 'no-store', signal: controller.signal });
    const body = await response.text();
    return { response, body, ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

function reasonOf(error) {
  if (error instanceof DOMException && error.name === 'AbortError') {
    return `no answer within ${TIMEOUT_MS / 1000} s`;
  }
  if (error instanceof TypeError) {
    // What fetch reports for a refused connection, a DNS failure or a CORS refusal.
    return 'the request failed (network error, or the API refused this origin)';
  }
  return error instanceof Error ? error.message : String(error);
}

async function loadConfig() {
  const { response, body } = await timedFetch('/config.json');
  if (!response.ok) throw new Error(`/config.json answered HTTP ${response.status}`);
  const config = JSON.parse(body);
  if (typeof config.apiUrl !== 'string' || !Array.isArray(config.regions)) {
    throw new Error('/config.json lacks apiUrl or regions');
  }
  return config;
}

function showAnswer(state, details) {
  const card = $('answer');
  card.dataset.state = state;
  $('answer-loading').hidden = state !== 'loading';
  $('answer-details').hidden = state !== 'ok';
  $('answer-error').hidden = state !== 'error';
  if (state === 'ok') {
    $('region').textContent = details.region;
    $('az').textContent = details.availabilityZone ?? details.az ?? '-';
    $('task').textContent = details.taskId ?? '-';
    $('version').textContent = details.version ?? '-';
    $('latency').textContent = `${details.ms} ms`;
  } else if (state === 'error') {
    $('answer-error').textContent = details;
  }
}

async function askWhoami(config) {
  const url = `${config.apiUrl}/api/whoami`;
  $('api-url').textContent = url;
  showAnswer('loading');
  try {
    const { response, body, ms } = await timedFetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    let answer;
    try {
      answer = JSON.parse(body);
    } catch {
      throw new Error('the answer is not JSON');
    }
    if (typeof answer.region !== 'string') throw new Error('the answer names no region');
    showAnswer('ok', { ...answer, ms });
  } catch (error) {
    showAnswer('error', `The API did not answer: ${reasonOf(error)}.`);
  }
}

function regionRow(region) {
  const row = document.createElement('tr');
  row.dataset.region = region;
  for (const text of [region, '', '']) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  return row;
}

function showHealth(row, status, text, latency) {
  row.dataset.status = status;
  const [, statusCell, latencyCell] = row.cells;
  statusCell.textContent = text;
  statusCell.className = `status-${status}`;
  latencyCell.textContent = latency;
}

async function checkRegion(row, healthUrl, token) {
  showHealth(row, 'checking', 'checking…', '');
  try {
    const { response, body, ms } = await timedFetch(healthUrl);
    // As the Route 53 check does: a 200 must also carry the readiness token.
    if (response.ok && body.includes(token)) {
      showHealth(row, 'ok', 'ok', `${ms} ms`);
    } else {
      showHealth(row, 'down', `down (HTTP ${response.status})`, `${ms} ms`);
    }
  } catch (error) {
    showHealth(row, 'down', `down (${reasonOf(error)})`, '');
  }
}

async function refresh(config, rows) {
  await Promise.all([
    askWhoami(config),
    ...config.regions.map((r, i) => checkRegion(rows[i], r.healthUrl, config.healthToken)),
  ]);
}

async function main() {
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    showAnswer('error', `The page has no API to call: ${reasonOf(error)}.`);
    return;
  }
  const rows = config.regions.map((r) => regionRow(r.region));
  $('regions').replaceChildren(...rows);

  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      await refresh(config, rows);
    } finally {
      running = false;
    }
  };
  $('refresh').addEventListener('click', () => void run());
  setInterval(() => void run(), REFRESH_MS);
  await run();
}

void main();
