//! The files of a chat: the list (download links; a GET, so the session cookie suffices)
//! and an upload form posting multipart to the agent API.

/** @import { FileInfo } from './types.js' */
import { api, chatPath, fileUrl, ApiError } from './api.js';
import { h, clear } from './dom.js';

/** @param {number} n */
function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export class FilesBox {
  /**
   * @param {string} chatId
   * @param {string} uid unique prefix for element ids
   * @param {(msg: string) => void} announce
   */
  constructor(chatId, uid, announce) {
    this.chatId = chatId;
    this.announce = announce;
    this.list = h('ul', { class: 'files' });
    this.note = h('p', { class: 'hint' });
    this.input = h('input', { type: 'file', id: `${uid}-file` });
    this.desc = h('input', { type: 'text', id: `${uid}-fdesc`, maxlength: 200, autocomplete: 'off' });
    this.button = h('button', { type: 'submit' }, 'Upload');
    this.form = h(
      'form',
      { class: 'upload', onsubmit: (e) => this.upload(e) },
      h('label', { for: `${uid}-file` }, 'File'),
      this.input,
      h('label', { for: `${uid}-fdesc` }, 'Description (optional)'),
      this.desc,
      this.button,
    );
    this.el = h('section', { class: 'files-box', 'aria-labelledby': `${uid}-fh` },
      h('h3', { id: `${uid}-fh` }, 'Files'), this.list, this.note, this.form);
    this.busy = false;
    this.again = false;
  }

  /** Reloads the list (coalescing calls made while one is running). */
  async refresh() {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        await this.load();
      } while (this.again);
    } finally {
      this.busy = false;
    }
  }

  async load() {
    try {
      /** @type {{ files: FileInfo[] }} */
      const res = await api('GET', chatPath(this.chatId, '/files'));
      clear(this.list);
      for (const f of res.files || []) {
        const a = h('a', { download: f.name }, f.name);
        a.href = fileUrl(this.chatId, f.id);
        this.list.append(h('li', {}, a, ` ${size(f.size)}`, f.description ? ` — ${f.description}` : ''));
      }
      this.note.textContent = res.files?.length ? '' : 'No files yet.';
    } catch (e) {
      this.note.textContent = e instanceof ApiError && e.code === 'not_in_chat' ? 'Not in this chat any more.' : 'Could not load the files.';
    }
  }

  /** Turns the upload form off (chat over, or file transfer off). @param {boolean} off */
  disable(off) {
    this.input.disabled = off;
    this.desc.disabled = off;
    this.button.disabled = off;
  }

  /** @param {Event} e */
  async upload(e) {
    e.preventDefault();
    const file = this.input.files?.[0];
    if (!file) {
      this.announce('Choose a file first.');
      return;
    }
    const body = new FormData();
    if (this.desc.value) body.append('description', this.desc.value);
    body.append('file', file, file.name);
    this.button.disabled = true;
    try {
      await api('POST', chatPath(this.chatId, '/files'), body);
      this.form.reset();
      this.announce(`Uploaded ${file.name}.`);
      void this.refresh();
    } catch (err) {
      const code = err instanceof ApiError ? err.code : '';
      const why = {
        files_disabled: 'file transfer is off for this service',
        file_too_large: 'the file is too large',
        too_large: 'the file is too large',
        file_type_not_allowed: 'this type of file is not allowed',
        file_rejected: 'the file was rejected by the scan',
      }[code] || (err instanceof Error ? err.message : 'failed');
      this.announce(`Upload failed: ${why}.`);
    } finally {
      this.button.disabled = false;
    }
  }
}
