/**
 * The languages a text needs, by script (text/scripts.ts): a request is routed only to a model
 * that speaks all of them, and a script no model speaks is refused by name, never dropped.
 * @module
 */
export { detectLanguages as detectLanguage } from '../../text/scripts.ts';
