(* A 2-d convolution layer with bias is a tied-bias network (THEORY.md
   section 8.1, "Tied networks"; issue 18, "Coq V", item 2), as Conv.v's 1-d
   layer.  C_in input channels of H x Wd pixels (input coordinate
   (ci * H + r) * Wd + q), C_out output channels, kernel kh x kw, strides
   sh, sw, zero paddings ph, pw, oh x ow output positions.  Output neuron
   (o, i, j) is neuron o * (oh ow) + i ow + j:
     y_(o,i,j) = b_o + sum_(ci, a < kh, b < kw) W[o][ci][a][b] * xpad_ci(i sh + a, j sw + b)
   with xpad_ci(r, q) = x_(ci, r - ph, q - pw) inside the image, else 0,
   followed by an activation.  Parameters: W[o][ci][a][b] is
   ((o C_in + ci) kh + a) kw + b, b_o is C_out C_in kh kw + o.  Its class is
   the channel o = c / (oh ow), whose bias is b_o (conv2d_is_tied); batches
   of it are tied-bias networks (conv2d_batch_is_tied).  conv2d_example: a
   1-channel 2 x 2 image, 2 x 2 kernel, stride 2, padding 1 (2 x 2 outputs):
   the corner neurons read one pixel each, through opposite kernel entries. *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Activation Network C1Output Batch Tied T7Batch Conv.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

Record conv2d := mk_conv2d {
  c2_cin : nat; c2_cout : nat; c2_kh : nat; c2_kw : nat; c2_sh : nat; c2_sw : nat;
  c2_ph : nat; c2_pw : nat; c2_h : nat; c2_w : nat; c2_oh : nat; c2_ow : nat; c2_act : activation }.

Section Conv2d.
Variable cv : conv2d.
Local Notation cin := (c2_cin cv).
Local Notation cout := (c2_cout cv).
Local Notation kh := (c2_kh cv).
Local Notation kw := (c2_kw cv).
Local Notation oh := (c2_oh cv).
Local Notation ow := (c2_ow cv).

Definition conv2d_widx (o ci a b : nat) : nat := (((o * cin + ci) * kh + a) * kw + b)%nat.
Definition conv2d_bidx (o : nat) : nat := (cout * cin * kh * kw + o)%nat.
Definition conv2d_params : nat := (cout * cin * kh * kw + cout)%nat.

(* the padded input at channel ci, padded row r, padded column q *)
Definition conv2d_xin (ci r q : nat) : expr :=
  if andb (andb (Nat.leb (c2_ph cv) r) (Nat.ltb r (c2_ph cv + c2_h cv)))
          (andb (Nat.leb (c2_pw cv) q) (Nat.ltb q (c2_pw cv + c2_w cv)))
  then EInput ((ci * c2_h cv + (r - c2_ph cv)) * c2_w cv + (q - c2_pw cv)) else EConst 0.

Definition conv2d_terms (o i j : nat) : list expr :=
  map (fun '(ci, (a, b)) =>
         EMul (EParam (conv2d_widx o ci a b)) (conv2d_xin ci (i * c2_sh cv + a) (j * c2_sw cv + b)))
      (list_prod (seq 0 cin) (list_prod (seq 0 kh) (seq 0 kw))).

Definition conv2d_tau (o i j : nat) : expr := fold_right EAdd (EParam (conv2d_bidx o)) (conv2d_terms o i j).

(* neuron c: channel c / (oh ow), position (c mod (oh ow)) / ow, (c mod (oh ow)) mod ow *)
Definition conv2d_neuron (c : nat) : expr * activation :=
  (conv2d_tau (c / (oh * ow)) ((c mod (oh * ow)) / ow) ((c mod (oh * ow)) mod ow), c2_act cv).

Definition conv2d_net (x : nat -> R) : network :=
  mk_net conv2d_params x (map conv2d_neuron (seq 0 (cout * (oh * ow)))) (EConst 0).

(** * Expressions *)

Lemma conv2d_xin_no_param (p ci r q : nat) : ~ occurs_param p (conv2d_xin ci r q).
Proof. unfold conv2d_xin; destruct (andb _ _); simpl; tauto. Qed.

Lemma conv2d_xin_no_neuron (j ci r q : nat) : ~ occurs_neuron j (conv2d_xin ci r q).
Proof. unfold conv2d_xin; destruct (andb _ _); simpl; tauto. Qed.

(* the weights of channel o are below the biases *)
Lemma conv2d_widx_lt (o ci a b : nat) : (o < cout)%nat -> (ci < cin)%nat -> (a < kh)%nat -> (b < kw)%nat ->
  (conv2d_widx o ci a b < cout * cin * kh * kw)%nat.
Proof.
  intros Ho Hci Ha Hb; unfold conv2d_widx.
  assert (H1 : (o * cin + ci + 1 <= cout * cin)%nat) by nia.
  assert (H2 : ((o * cin + ci) * kh + a + 1 <= cout * cin * kh)%nat).
  { assert (((o * cin + ci + 1) * kh <= cout * cin * kh)%nat) by (apply Nat.mul_le_mono_r, H1). nia. }
  assert (H3 : (((o * cin + ci) * kh + a + 1) * kw <= cout * cin * kh * kw)%nat)
    by (apply Nat.mul_le_mono_r, H2).
  nia.
Qed.

Lemma conv2d_terms_params (o i j p : nat) (t : expr) : (o < cout)%nat ->
  In t (conv2d_terms o i j) -> occurs_param p t -> (p < cout * cin * kh * kw)%nat.
Proof.
  intros Ho Ht Hp; unfold conv2d_terms in Ht; apply in_map_iff in Ht as [[ci [a b]] [<- Hin]].
  apply in_prod_iff in Hin as [Hci Hab]; apply in_prod_iff in Hab as [Ha Hb].
  apply in_seq in Hci; apply in_seq in Ha; apply in_seq in Hb.
  simpl in Hp; destruct Hp as [<-|Hp]; [|exfalso; exact (conv2d_xin_no_param _ _ _ _ Hp)].
  apply conv2d_widx_lt; lia.
Qed.

Lemma conv2d_terms_no_neuron (o i j n : nat) (t : expr) : In t (conv2d_terms o i j) -> ~ occurs_neuron n t.
Proof.
  intros Ht Hn; unfold conv2d_terms in Ht; apply in_map_iff in Ht as [[ci [a b]] [<- _]].
  simpl in Hn; destruct Hn as [[]|Hn]; exact (conv2d_xin_no_neuron _ _ _ _ Hn).
Qed.

Lemma conv2d_tau_no_neuron (o i j n : nat) : ~ occurs_neuron n (conv2d_tau o i j).
Proof.
  intros H; apply occurs_neuron_fold_add in H as [H|[t [Ht H]]]; [exact H|].
  exact (conv2d_terms_no_neuron o i j n t Ht H).
Qed.

Lemma conv2d_tau_params (o i j p : nat) : (o < cout)%nat -> occurs_param p (conv2d_tau o i j) ->
  p = conv2d_bidx o \/ (p < cout * cin * kh * kw)%nat.
Proof.
  intros Ho H; apply occurs_param_fold_add in H as [H|[t [Ht H]]]; [left; simpl in H; congruence|].
  right; exact (conv2d_terms_params o i j p t Ho Ht H).
Qed.

(** * The network *)

Variable x : nat -> R.
Let net := conv2d_net x.
Local Notation P := (oh * ow)%nat.

Lemma conv2d_size : n_size net = (cout * P)%nat.
Proof. unfold n_size, net, conv2d_net; simpl; rewrite map_length, seq_length; reflexivity. Qed.

Lemma conv2d_tau_at (c : nat) : (c < cout * P)%nat ->
  tau net c = conv2d_tau (c / P) ((c mod P) / ow) ((c mod P) mod ow).
Proof. intros Hc; unfold tau, net, conv2d_net; simpl; rewrite nth_map_seq by exact Hc; reflexivity. Qed.

Lemma conv2d_sigma_at (c : nat) : (c < cout * P)%nat -> sigma net c = c2_act cv.
Proof. intros Hc; unfold sigma, net, conv2d_net; simpl; rewrite nth_map_seq by exact Hc; reflexivity. Qed.

Lemma conv2d_channel_lt (c : nat) : (c < cout * P)%nat -> (c / P < cout)%nat.
Proof.
  intros Hc; assert (P <> 0%nat) by (intros E; rewrite E in Hc; lia).
  apply Nat.div_lt_upper_bound; lia.
Qed.

(* y_(o,i,j) = b_o + the weighted padded inputs *)
Lemma conv2d_preact (w : vec) (c : nat) : (c < cout * P)%nat ->
  preact net w c = w (conv2d_bidx (c / P)) +
    eval x w (zvals net w c) (fold_right EAdd (EConst 0) (conv2d_terms (c / P) ((c mod P) / ow) ((c mod P) mod ow))).
Proof. intros Hc; unfold preact; rewrite conv2d_tau_at by exact Hc; apply eval_fold_add. Qed.

Theorem conv2d_wf : wf_neurons net.
Proof.
  intros c Hc; rewrite conv2d_size in Hc; rewrite conv2d_tau_at by exact Hc; split.
  - intros j Hj; exfalso; exact (conv2d_tau_no_neuron _ _ _ _ Hj).
  - intros p Hp; pose proof (conv2d_channel_lt c Hc) as Hch.
    change (n_params net) with conv2d_params; unfold conv2d_params.
    apply conv2d_tau_params in Hp as [->|Hp]; [unfold conv2d_bidx; lia | lia | exact Hch].
Qed.

Theorem conv2d_is_tied : tied_bias net (fun c => (c / P)%nat) conv2d_bidx.
Proof.
  split.
  - intros c j Hc Hj; rewrite conv2d_size in Hc; rewrite conv2d_tau_at in Hj by exact Hc.
    exfalso; exact (conv2d_tau_no_neuron _ _ _ _ Hj).
  - intros c' Hc' _; rewrite conv2d_size in Hc'; pose proof (conv2d_channel_lt c' Hc') as Ho'.
    split; [unfold conv2d_bidx; simpl; unfold conv2d_params; lia|].
    intros c Hc; rewrite conv2d_size in Hc; pose proof (conv2d_channel_lt c Hc) as Ho.
    rewrite conv2d_tau_at by exact Hc; split.
    + intros He; rewrite <- He.
      exists (fold_right EAdd (EConst 0) (conv2d_terms (c / P) ((c mod P) / ow) ((c mod P) mod ow))); split.
      * intros H; apply occurs_param_fold_add in H as [H|[t [Ht H]]]; [exact H|].
        pose proof (conv2d_terms_params _ _ _ _ t Ho Ht H); unfold conv2d_bidx in *; lia.
      * intros w z; apply eval_fold_add.
    + intros Hne H; apply conv2d_tau_params in H as [H|H]; [|unfold conv2d_bidx in H; lia | exact Ho].
      unfold conv2d_bidx in H; lia.
Qed.

End Conv2d.

(** * Batches of 2-d convolution layers *)

Theorem conv2d_batch_is_tied (cv : conv2d) (x0 : nat -> R) (B : nat) (xs : nat -> nat -> R) :
  tied_bias (batch_neurons (conv2d_net cv x0) B xs)
    (fun c => ((c mod n_size (conv2d_net cv x0)) / (c2_oh cv * c2_ow cv))%nat) (conv2d_bidx cv).
Proof.
  apply (batch_tied (conv2d_net cv x0) B xs (fun c => (c / (c2_oh cv * c2_ow cv))%nat) (conv2d_bidx cv)).
  - exact (conv2d_wf cv x0).
  - intros i _; exact (conv2d_is_tied cv (xs i)).
Qed.

(** * A concrete layer *)

(* 1 channel, 2 x 2 image, 2 x 2 kernel, stride 2, padding 1: 2 x 2 outputs;
   parameters W[0][0][a][b] = w (2 a + b), bias w 4 *)
Definition conv2d_ex (a : activation) : conv2d :=
  mk_conv2d 1 1 2 2 2 2 1 1 2 2 (conv_olen_std 2 2 2 1) (conv_olen_std 2 2 2 1) a.

(* the top-left output reads only pixel (0, 0), through the kernel's
   bottom-right entry; the bottom-right output only pixel (1, 1), through the
   top-left entry; all four outputs share the bias w 4 *)
Theorem conv2d_example (a : activation) (x : nat -> R) (w : vec) :
  c2_oh (conv2d_ex a) = 2%nat /\ n_size (conv2d_net (conv2d_ex a) x) = 4%nat /\
  preact (conv2d_net (conv2d_ex a) x) w 0 = w 4%nat + w 3%nat * x 0%nat /\
  preact (conv2d_net (conv2d_ex a) x) w 3 = w 4%nat + w 0%nat * x 3%nat /\
  tied_bias (conv2d_net (conv2d_ex a) x) (fun c => (c / 4)%nat) (conv2d_bidx (conv2d_ex a)).
Proof.
  split; [reflexivity|]; split; [reflexivity|]; split; [|split].
  - unfold preact; cbn; ring.
  - unfold preact; cbn; ring.
  - exact (conv2d_is_tied (conv2d_ex a) x).
Qed.
