-- wrk script for bench/search.sh: one search shape per run, with a random term per request.
--
--   wrk ... -s bench/wrk/search.lua http://HOST/graphql -- SHAPE
--
-- Terms are those of bench/load_data.sh: RARE is one of 1,000 made-up words (each in ~0.1%
-- of posts), TOPIC one of 50 topic words (~2% each), BROAD a word in ~2/3 of all posts.
-- Requests are anonymous (published posts of public organizations).
-- A response counts as an error when its status is not 200 or its body has "errors".
-- done() prints one JSON line starting with "WRKJSON ".

local threads = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("tid", counter)
    table.insert(threads, thread)
end

local syllables = { "ka", "lo", "mi", "ne", "ru", "ta", "vi", "zo", "pe", "su" }
local topics = { "kubernetes", "typescript", "photography", "gardening", "astronomy", "woodworking",
    "marathon", "espresso", "sourdough", "watercolor", "birdwatching", "chess", "climbing", "cycling",
    "fermentation", "genealogy", "homebrewing", "knitting", "linguistics", "meteorology", "mycology",
    "origami", "pottery", "quilting", "robotics", "sailing", "sculpture", "snowboarding", "surfing",
    "taxidermy", "telescopes", "terrarium", "vinyl", "volcanology", "yoga", "zoology", "calligraphy",
    "beekeeping", "bonsai", "carpentry", "ceramics", "cryptography", "dendrology", "embroidery",
    "falconry", "glassblowing", "herpetology", "ikebana", "juggling", "kayaking" }
local broad = { "falcon", "harbor", "lantern", "compass", "meadow" }

local function rare()
    local n = math.random(0, 999)
    return syllables[1 + math.floor(n / 100)] .. syllables[1 + math.floor(n / 10) % 10] .. syllables[1 + n % 10]
end
local function topic() return topics[math.random(1, #topics)] end

local list = 'edges { node { id title createdAt } } pageInfo { hasNextPage endCursor }'
local shapes = {
    search_rare = { 'query S($q: String!) { posts(first: 20, filter: {search: $q}) { ' .. list .. ' } }', rare },
    search_topic = { 'query S($q: String!) { posts(first: 20, filter: {search: $q}) { ' .. list .. ' } }', topic },
    search_topic_count = { 'query S($q: String!) { posts(filter: {search: $q}) { totalCount } }', topic },
    fulltext_rare = { 'query F($q: String!) { posts(first: 20, filter: {fullText: $q}) { ' .. list .. ' } }', rare },
    fulltext_topic = { 'query F($q: String!) { posts(first: 20, filter: {fullText: $q}) { ' .. list .. ' } }', topic },
    fulltext_topic_count = { 'query F($q: String!) { posts(filter: {fullText: $q}) { totalCount } }', topic },
    fulltext_org = { 'query F($q: String!, $org: ID) { posts(organizationId: $org, first: 20, filter: {fullText: $q}) { '
        .. list .. ' } }', topic, true },
    search_broad = { 'query S($q: String!) { posts(first: 20, filter: {search: $q}) { ' .. list .. ' } }',
        function() return broad[math.random(1, #broad)] end },
    fulltext_broad = { 'query F($q: String!) { posts(first: 20, filter: {fullText: $q}) { ' .. list .. ' } }',
        function() return broad[math.random(1, #broad)] end },
}

local shape
local headers = { ["Content-Type"] = "application/json" }

function init(args)
    shape = shapes[args[1]]
    assert(shape, "unknown shape " .. tostring(args[1]))
    gql_errors = 0
    first_error = ""
    math.randomseed(os.time() * 1000 + tid * 7919)
end

function request()
    local vars = string.format('{"q":"%s"', shape[2]())
    if shape[3] then vars = vars .. string.format(',"org":"%d"', math.random(1, 1000)) end
    local body = '{"query":"' .. shape[1]:gsub('"', '\\"') .. '","variables":' .. vars .. '}}'
    return wrk.format("POST", nil, headers, body)
end

function response(status, headers, resp_body)
    if status ~= 200 or string.find(resp_body, '"errors"', 1, true) then
        gql_errors = gql_errors + 1
        if first_error == "" then first_error = string.sub(resp_body or "", 1, 300) end
    end
end

function done(summary, latency, requests)
    local errors, sample = 0, ""
    for _, t in ipairs(threads) do
        errors = errors + t:get("gql_errors")
        local e = t:get("first_error")
        if sample == "" and e and e ~= "" then sample = e end
    end
    sample = sample:gsub('[%c"\\]', ' ')
    local e = summary.errors
    io.write(string.format(
        'WRKJSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,'
            .. '"graphql_errors":%d,"status_errors":%d,"socket_errors":%d,"error_sample":"%s"}\n',
        summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
        errors, e.status, e.connect + e.read + e.write + e.timeout, sample))
end
