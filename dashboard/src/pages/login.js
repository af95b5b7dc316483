// Login: the node was started with --http-api-token. The token is checked by calling the API
// with it; it is kept for this browser tab only (sessionStorage).
import { api, AuthError, setToken } from '../api.js';
import { h, notice } from '../format.js';

export function mount(el, ctx) {
  document.title = 'Sign in · meshmq';
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off',
    placeholder: 'API token', required: true });
  const message = h('div');
  const form = h('form', { class: 'card login' },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'muted' }, 'This node\'s admin API requires a token ',
      h('code', {}, '--http-api-token'), '. The dashboard uses the same API and nothing else.'),
    h('label', { for: 'token' }, 'API token'), input, message,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('/nodes', { tokenOverride: input.value });
      setToken(input.value);
      ctx.done();
      ctx.navigate(ctx.params.get('next') || 'overview');
    } catch (err) {
      message.replaceChildren(notice('error', err instanceof AuthError
        ? 'That token is not valid for this node.' : err.message));
    }
  });
  el.append(form);
  input.focus();
  return () => {};
}
