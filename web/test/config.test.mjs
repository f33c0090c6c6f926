// /api/wic-config and the identities typed into the page.
import test from 'node:test';
import assert from 'node:assert/strict';
import { checkIdentity, domainOf, impiFromImpu, normalizeImpu, normalizeTarget, resolveConfig } from '../src/config.js';

test('{host} is the page\'s host name', () => {
  const c = resolveConfig({ pcscf_url: 'wss://{host}:7443', wwsf_id: 'localhost', guest: false, web_login: true, open_registration: false }, 'wic.example.org');
  assert.equal(c.pcscf_url, 'wss://wic.example.org:7443');
  assert.equal(c.guest, false);
  assert.equal(c.web_login, true);
  assert.equal(resolveConfig({ pcscf_url: 'wss://{host}:1/' }, '::1').pcscf_url, 'wss://[::1]:1/');
  assert.equal(resolveConfig({ pcscf_url: 'wss://{host}:1/' }, '[::1]').pcscf_url, 'wss://[::1]:1/');
});

test('without an answer: defaults, every way in offered', () => {
  const c = resolveConfig(null, 'localhost');
  assert.equal(c.pcscf_url, 'wss://localhost:7443');
  assert.equal(c.guest, true);
  assert.equal(c.web_login, true);
  assert.equal(resolveConfig('nonsense', 'h').pcscf_url, 'wss://h:7443');
});

test('identities', () => {
  assert.equal(normalizeImpu(' alice@ims.example.org '), 'sip:alice@ims.example.org');
  assert.equal(normalizeImpu('SIP:alice@ims.example.org'), 'sip:alice@ims.example.org');
  assert.equal(normalizeImpu('tel:+15550100'), 'tel:+15550100');
  assert.equal(normalizeImpu(''), '');
  assert.equal(impiFromImpu('sip:alice@ims.example.org'), 'alice@ims.example.org');
  assert.equal(impiFromImpu('sips:alice@ims.example.org;transport=ws'), 'alice@ims.example.org');
  assert.equal(impiFromImpu('tel:+1555'), '');
  assert.equal(domainOf('sip:alice@IMS.example.org;x=y'), 'ims.example.org');
  assert.equal(domainOf('sip:ims.example.org:5060'), 'ims.example.org');
  assert.equal(normalizeTarget('bob', 'ims.example.org'), 'sip:bob@ims.example.org');
  assert.equal(normalizeTarget('bob@x.org', 'ims.example.org'), 'sip:bob@x.org');
  assert.equal(normalizeTarget('sip:guest-g1@ims.example.org', 'y'), 'sip:guest-g1@ims.example.org');
  assert.equal(normalizeTarget('  ', 'y'), '');
});

test('identity checks say what is wrong', () => {
  assert.equal(checkIdentity({ impu: 'sip:alice@ims.example.org' }), '');
  assert.equal(checkIdentity({ impu: 'sip:alice@ims.example.org', impi: 'alice@ims.example.org' }), '');
  assert.match(checkIdentity({ impu: '' }), /Enter your public identity/);
  assert.match(checkIdentity({ impu: 'sip:alice' }), /not a public identity/);
  assert.match(checkIdentity({ impu: 'sip:a@b', impi: 'alice' }), /not a private identity/);
});
