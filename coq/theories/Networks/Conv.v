(* A 1-d convolution layer with bias is a tied-bias network (THEORY.md
   section 8.1, "Tied networks"; issue 18, item 1).  C_in input channels of
   length len (input coordinate ci * len + q), C_out output channels, kernel
   size K, stride s, zero padding pad, olen output positions.  Output neuron
   (o, i) is neuron o * olen + i:
     y_(o,i) = b_o + sum_(ci < C_in, k < K) W[o][ci][k] * xpad_ci(i s + k)
   with xpad_ci(q) = x_(ci * len + q - pad) if pad <= q < pad + len, else 0,
   followed by an activation.  Parameters: W[o][ci][k] is
   (o * C_in + ci) * K + k, b_o is C_out C_in K + o.  Its class is the
   channel o = c / olen, and b_o is the bias of the class (conv_is_tied);
   batches of it are tied-bias networks with class (c mod N) / olen
   (conv_batch_is_tied). *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Activation Network C1Output Batch Tied T7Batch.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

Record conv1d := mk_conv1d {
  cv_cin : nat; cv_cout : nat; cv_k : nat; cv_stride : nat; cv_pad : nat;
  cv_len : nat; cv_olen : nat; cv_act : activation }.

(* the usual number of output positions (len + 2 pad - K) / s + 1 *)
Definition conv_olen_std (len K s pad : nat) : nat := ((len + 2 * pad - K) / s + 1)%nat.

Section Conv.
Variable cv : conv1d.
Local Notation cin := (cv_cin cv).
Local Notation cout := (cv_cout cv).
Local Notation K := (cv_k cv).
Local Notation olen := (cv_olen cv).

Definition conv_widx (o ci k : nat) : nat := ((o * cin + ci) * K + k)%nat.
Definition conv_bidx (o : nat) : nat := (cout * cin * K + o)%nat.
Definition conv_params : nat := (cout * cin * K + cout)%nat.

(* the padded input at channel ci, padded position q *)
Definition conv_xin (ci q : nat) : expr :=
  if andb (Nat.leb (cv_pad cv) q) (Nat.ltb q (cv_pad cv + cv_len cv))
  then EInput (ci * cv_len cv + (q - cv_pad cv)) else EConst 0.

Definition conv_terms (o i : nat) : list expr :=
  map (fun '(ci, k) => EMul (EParam (conv_widx o ci k)) (conv_xin ci (i * cv_stride cv + k)))
      (list_prod (seq 0 cin) (seq 0 K)).

Definition conv_tau (o i : nat) : expr := fold_right EAdd (EParam (conv_bidx o)) (conv_terms o i).

Definition conv_neuron (c : nat) : expr * activation := (conv_tau (c / olen) (c mod olen), cv_act cv).

Definition conv_net (x : nat -> R) : network :=
  mk_net conv_params x (map conv_neuron (seq 0 (cout * olen))) (EConst 0).

(** * Expressions *)

Lemma eval_fold_add (x : nat -> R) (w : vec) (z : nat -> R) (e : expr) (ts : list expr) :
  eval x w z (fold_right EAdd e ts) = eval x w z e + eval x w z (fold_right EAdd (EConst 0) ts).
Proof. induction ts as [|t ts IH]; simpl; [ring | rewrite IH; ring]. Qed.

Lemma occurs_param_fold_add (p : nat) (e : expr) (ts : list expr) :
  occurs_param p (fold_right EAdd e ts) -> occurs_param p e \/ exists t, In t ts /\ occurs_param p t.
Proof.
  induction ts as [|t ts IH]; simpl; [tauto|]; intros [H|H]; [right; exists t; tauto|].
  destruct (IH H) as [H'|[t' [Ht' H']]]; [left; exact H' | right; exists t'; tauto].
Qed.

Lemma occurs_neuron_fold_add (j : nat) (e : expr) (ts : list expr) :
  occurs_neuron j (fold_right EAdd e ts) -> occurs_neuron j e \/ exists t, In t ts /\ occurs_neuron j t.
Proof.
  induction ts as [|t ts IH]; simpl; [tauto|]; intros [H|H]; [right; exists t; tauto|].
  destruct (IH H) as [H'|[t' [Ht' H']]]; [left; exact H' | right; exists t'; tauto].
Qed.

Lemma conv_xin_no_param (p ci q : nat) : ~ occurs_param p (conv_xin ci q).
Proof. unfold conv_xin; destruct (andb _ _); simpl; tauto. Qed.

Lemma conv_xin_no_neuron (j ci q : nat) : ~ occurs_neuron j (conv_xin ci q).
Proof. unfold conv_xin; destruct (andb _ _); simpl; tauto. Qed.

(* the weights of channel o are below the biases *)
Lemma conv_terms_params (o i p : nat) (t : expr) : (o < cout)%nat ->
  In t (conv_terms o i) -> occurs_param p t -> (p < cout * cin * K)%nat.
Proof.
  intros Ho Ht Hp; unfold conv_terms in Ht; apply in_map_iff in Ht as [[ci k] [<- Hin]].
  apply in_prod_iff in Hin as [Hci Hk]; apply in_seq in Hci; apply in_seq in Hk.
  simpl in Hp; destruct Hp as [<-|Hp]; [|exfalso; exact (conv_xin_no_param _ _ _ Hp)].
  unfold conv_widx.
  assert (H1 : (o * cin + ci + 1 <= cout * cin)%nat) by nia.
  assert (H2 : ((o * cin + ci + 1) * K <= cout * cin * K)%nat) by (apply Nat.mul_le_mono_r, H1).
  nia.
Qed.

Lemma conv_terms_no_neuron (o i j : nat) (t : expr) : In t (conv_terms o i) -> ~ occurs_neuron j t.
Proof.
  intros Ht Hj; unfold conv_terms in Ht; apply in_map_iff in Ht as [[ci k] [<- _]].
  simpl in Hj; destruct Hj as [[]|Hj]; exact (conv_xin_no_neuron _ _ _ Hj).
Qed.

Lemma conv_tau_no_neuron (o i j : nat) : ~ occurs_neuron j (conv_tau o i).
Proof.
  intros H; apply occurs_neuron_fold_add in H as [H|[t [Ht H]]]; [exact H|].
  exact (conv_terms_no_neuron o i j t Ht H).
Qed.

Lemma conv_tau_params (o i p : nat) : (o < cout)%nat -> occurs_param p (conv_tau o i) ->
  p = conv_bidx o \/ (p < cout * cin * K)%nat.
Proof.
  intros Ho H; apply occurs_param_fold_add in H as [H|[t [Ht H]]]; [left; simpl in H; congruence|].
  right; exact (conv_terms_params o i p t Ho Ht H).
Qed.

(** * The network *)

Variable x : nat -> R.
Let net := conv_net x.

Lemma conv_size : n_size net = (cout * olen)%nat.
Proof. unfold n_size, net, conv_net; simpl; rewrite map_length, seq_length; reflexivity. Qed.

Lemma conv_tau_at (c : nat) : (c < cout * olen)%nat -> tau net c = conv_tau (c / olen) (c mod olen).
Proof. intros Hc; unfold tau, net, conv_net; simpl; rewrite nth_map_seq by exact Hc; reflexivity. Qed.

Lemma conv_sigma_at (c : nat) : (c < cout * olen)%nat -> sigma net c = cv_act cv.
Proof. intros Hc; unfold sigma, net, conv_net; simpl; rewrite nth_map_seq by exact Hc; reflexivity. Qed.

Lemma conv_channel_lt (c : nat) : (c < cout * olen)%nat -> (c / olen < cout)%nat.
Proof.
  intros Hc; assert (olen <> 0%nat) by (intros E; rewrite E in Hc; lia).
  apply Nat.div_lt_upper_bound; lia.
Qed.

(* y_(o,i) = b_o + sum of the weighted padded inputs *)
Lemma conv_preact (w : vec) (c : nat) : (c < cout * olen)%nat ->
  preact net w c = w (conv_bidx (c / olen)) +
    eval x w (zvals net w c) (fold_right EAdd (EConst 0) (conv_terms (c / olen) (c mod olen))).
Proof. intros Hc; unfold preact; rewrite conv_tau_at by exact Hc; apply eval_fold_add. Qed.

Theorem conv_wf : wf_neurons net.
Proof.
  intros c Hc; rewrite conv_size in Hc; rewrite conv_tau_at by exact Hc; split.
  - intros j Hj; exfalso; exact (conv_tau_no_neuron _ _ _ Hj).
  - intros p Hp; pose proof (conv_channel_lt c Hc) as Hch.
    change (n_params net) with conv_params; unfold conv_params.
    apply conv_tau_params in Hp as [->|Hp]; [unfold conv_bidx; lia | lia | exact Hch].
Qed.

Theorem conv_is_tied : tied_bias net (fun c => (c / olen)%nat) conv_bidx.
Proof.
  split.
  - intros c j Hc Hj; rewrite conv_size in Hc; rewrite conv_tau_at in Hj by exact Hc.
    exfalso; exact (conv_tau_no_neuron _ _ _ Hj).
  - intros c' Hc' _; rewrite conv_size in Hc'; pose proof (conv_channel_lt c' Hc') as Ho'.
    split; [unfold conv_bidx; simpl; unfold conv_params; lia|].
    intros c Hc; rewrite conv_size in Hc; pose proof (conv_channel_lt c Hc) as Ho.
    rewrite conv_tau_at by exact Hc; split.
    + intros He; rewrite <- He.
      exists (fold_right EAdd (EConst 0) (conv_terms (c / olen) (c mod olen))); split.
      * intros H; apply occurs_param_fold_add in H as [H|[t [Ht H]]]; [exact H|].
        pose proof (conv_terms_params _ _ _ t Ho Ht H); unfold conv_bidx in *; lia.
      * intros w z; apply eval_fold_add.
    + intros Hne H; apply conv_tau_params in H as [H|H]; [|unfold conv_bidx in H; lia | exact Ho].
      unfold conv_bidx in H; lia.
Qed.

End Conv.

(** * Batches of convolution layers *)

Theorem conv_batch_is_tied (cv : conv1d) (x0 : nat -> R) (B : nat) (xs : nat -> nat -> R) :
  tied_bias (batch_neurons (conv_net cv x0) B xs)
    (fun c => ((c mod n_size (conv_net cv x0)) / cv_olen cv)%nat) (conv_bidx cv).
Proof.
  apply (batch_tied (conv_net cv x0) B xs (fun c => (c / cv_olen cv)%nat) (conv_bidx cv)).
  - exact (conv_wf cv x0).
  - intros i _; exact (conv_is_tied cv (xs i)).
Qed.
