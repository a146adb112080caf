// Local stubs of PartnerStack, Everflow, Tracknow and generic webhooks; filled by the dispatcher work.
export {};
