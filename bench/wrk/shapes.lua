-- wrk script for bench/run.sh and bench/search.sh: one GraphQL request shape per run, with
-- random arguments.
--
--   wrk ... -s bench/wrk/shapes.lua http://HOST/graphql -- SHAPE [TOKENS_FILE ADMIN_TOKEN_FILE]
--
-- SHAPE: a_org_posts | b_nested | c_post | d_create_post (run.sh; b and d need the token
-- files), or one of the anonymous search shapes of `searches` below (search.sh).
-- A response counts as an error when its status is not 200 or its body has "errors".
-- done() prints one JSON line starting with "WRKJSON ".

local threads = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("tid", counter)
    table.insert(threads, thread)
end

local shape, member_tokens, admin_token
local headers_anon = { ["Content-Type"] = "application/json" }

local function read_lines(path)
    local lines = {}
    local f = assert(io.open(path, "r"))
    for line in f:lines() do
        if #line > 0 then table.insert(lines, line) end
    end
    f:close()
    return lines
end

local content = string.rep("Benchmark post body, about one kilobyte of text. ", 20)

local queries = {
    a_org_posts = 'query A($org: ID!) { posts(organizationId: $org, first: 20, filter: {status: PUBLISHED}) '
        .. '{ edges { node { id title createdAt author { username } } } } }',
    b_nested = 'query B($org: ID) { organization(id: $org) { name users(first: 10) { edges { node { username '
        .. 'posts(first: 5) { edges { node { id title createdAt } } } } } } } }',
    c_post = 'query C($id: ID!) { post(id: $id) { id title content viewCount createdAt } }',
    d_create_post = 'mutation D($t: String!, $c: String) { createPost(input: {title: $t, content: $c}) '
        .. '{ id databaseId createdAt } }',
}

-- Search terms of bench/load_data.sh: RARE is one of 1,000 made-up words (each in ~0.1% of
-- posts), TOPIC one of 50 topic words (~2% each), BROAD a word in ~2/3 of all posts.
local syllables = { "ka", "lo", "mi", "ne", "ru", "ta", "vi", "zo", "pe", "su" }
local topics = { "kubernetes", "typescript", "photography", "gardening", "astronomy", "woodworking",
    "marathon", "espresso", "sourdough", "watercolor", "birdwatching", "chess", "climbing", "cycling",
    "fermentation", "genealogy", "homebrewing", "knitting", "linguistics", "meteorology", "mycology",
    "origami", "pottery", "quilting", "robotics", "sailing", "sculpture", "snowboarding", "surfing",
    "taxidermy", "telescopes", "terrarium", "vinyl", "volcanology", "yoga", "zoology", "calligraphy",
    "beekeeping", "bonsai", "carpentry", "ceramics", "cryptography", "dendrology", "embroidery",
    "falconry", "glassblowing", "herpetology", "ikebana", "juggling", "kayaking" }
local broad_words = { "falcon", "harbor", "lantern", "compass", "meadow" }

local function rare()
    local n = math.random(0, 999)
    return syllables[1 + math.floor(n / 100)] .. syllables[1 + math.floor(n / 10) % 10] .. syllables[1 + n % 10]
end
local function topic() return topics[math.random(1, #topics)] end
local function broad() return broad_words[math.random(1, #broad_words)] end

-- name = { query, term, within a random organization }
local list = 'edges { node { id title createdAt } } pageInfo { hasNextPage endCursor }'
local search_list = 'query S($q: String!) { posts(first: 20, filter: {search: $q}) { ' .. list .. ' } }'
local fulltext_list = 'query F($q: String!) { posts(first: 20, filter: {fullText: $q}) { ' .. list .. ' } }'
local searches = {
    search_rare = { search_list, rare },
    search_topic = { search_list, topic },
    search_topic_count = { 'query S($q: String!) { posts(filter: {search: $q}) { totalCount } }', topic },
    fulltext_rare = { fulltext_list, rare },
    fulltext_topic = { fulltext_list, topic },
    fulltext_topic_count = { 'query F($q: String!) { posts(filter: {fullText: $q}) { totalCount } }', topic },
    fulltext_org = { 'query F($q: String!, $org: ID) { posts(organizationId: $org, first: 20, '
        .. 'filter: {fullText: $q}) { ' .. list .. ' } }', topic, true },
    search_broad = { search_list, broad },
    fulltext_broad = { fulltext_list, broad },
}

function init(args)
    shape = args[1]
    assert(queries[shape] or searches[shape], "unknown shape " .. tostring(shape))
    if args[2] then
        member_tokens = read_lines(args[2])
        admin_token = read_lines(args[3])[1]
    end
    gql_errors = 0
    first_error = ""
    math.randomseed(os.time() * 1000 + tid * 7919)
end

local function body(query, variables)
    return '{"query":"' .. query:gsub('"', '\\"') .. '","variables":' .. variables .. '}'
end

function request()
    local search = searches[shape]
    if search then
        local vars = string.format('{"q":"%s"', search[2]())
        if search[3] then vars = vars .. string.format(',"org":"%d"', math.random(1, 1000)) end
        return wrk.format("POST", nil, headers_anon, body(search[1], vars .. '}'))
    elseif shape == "a_org_posts" then
        return wrk.format("POST", nil, headers_anon,
            body(queries.a_org_posts, string.format('{"org":"%d"}', math.random(1, 1000))))
    elseif shape == "b_nested" then
        local h = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. admin_token }
        return wrk.format("POST", nil, h,
            body(queries.b_nested, string.format('{"org":"%d"}', math.random(1, 1000))))
    elseif shape == "c_post" then
        return wrk.format("POST", nil, headers_anon,
            body(queries.c_post, string.format('{"id":"%d"}', math.random(1, 1000000))))
    else
        local token = member_tokens[math.random(1, #member_tokens)]
        local h = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
        return wrk.format("POST", nil, h,
            body(queries.d_create_post,
                string.format('{"t":"Bench post %d","c":"%s"}', math.random(1, 1000000000), content)))
    end
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
