-- Neovim 0.7 (`nvim --headless -u NONE -S graph.lua`): starts metaflow-lsp with the built-in client as the README's
-- set-up does, sources the README's `:MetaflowGraph` snippet ($MFLSP_SNIPPET), opens the flow, runs the command
-- and writes the lines of the window it opens to $MFLSP_RESULT as JSON for tests/test_graph_editors.py.
-- $MFLSP_SERVER (the `metaflow-lsp` console script), $MFLSP_CWD (the server's working folder: not the workspace),
-- $MFLSP_FLOW, $MFLSP_TIMEOUT (seconds per wait).
local env = vim.env
local timeout = tonumber(env.MFLSP_TIMEOUT) * 1000
local result = { messages = {} }

local function finish(error_message)
  result.error = error_message
  local out = assert(io.open(env.MFLSP_RESULT, "w"))
  out:write(vim.fn.json_encode(result))
  out:close()
  vim.cmd(error_message and "cquit!" or "qall!")
end

vim.notify = function(message) table.insert(result.messages, tostring(message)) end

vim.cmd("edit " .. vim.fn.fnameescape(env.MFLSP_FLOW))
local flow = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({
  name = "metaflow-lsp", cmd = { env.MFLSP_SERVER, "serve" }, cmd_cwd = env.MFLSP_CWD,
  root_dir = vim.fn.fnamemodify(env.MFLSP_FLOW, ":h"),
})
if not client_id then finish("the client did not start") end
vim.lsp.buf_attach_client(flow, client_id)
if not vim.wait(timeout, function()
  local client = vim.lsp.get_client_by_id(client_id)
  return client ~= nil and client.initialized
end, 50) then finish("timed out waiting for the server") end

vim.cmd("source " .. vim.fn.fnameescape(env.MFLSP_SNIPPET))
vim.cmd("MetaflowGraph")
if not vim.wait(timeout, function() return vim.api.nvim_get_current_buf() ~= flow end, 50) then
  finish("timed out waiting for the graph window")
end
result.lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
finish(nil)
